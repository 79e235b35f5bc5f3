#!/usr/bin/env python3
"""solum-git-http: smart HTTP(S) git for one tenant git server.

    solum-git-http serve --home GIT_HOME --listen ADDR --port N --pidfile FILE
                         --log FILE [--tls] [--foreground]

It runs as the git server's own unix user, beside its sshd, and serves only
git's smart protocol (``/<repo>.git/info/refs``, ``git-upload-pack``,
``git-receive-pack``). It checks the HTTP basic credentials against the token
file solum-git renders into gitolite-admin (``http/tokens``, checked out by
gitolite into ``$HOME/.gitolite``, see TOKEN_LINE), then hands the request to
gitolite's own http mode (``gitolite-shell`` as a CGI, with ``REMOTE_USER``
the token's gitolite user), so gitolite decides access exactly as over SSH
and the same hooks run. With ``--tls`` it speaks HTTPS with the certificate
and key solum-git renders next to the tokens (``http/tls.crt``,
``http/tls.key``), taken up again when they change.

``/pin/<40 hex>/<repo>.git/...`` is a read-only view of a repo whose only
branch ``master`` (and HEAD) is that commit, by git's ref namespaces: the ref
``refs/namespaces/pin-<sha>/refs/heads/master`` is made on demand, only if
the caller may read the repo and the commit is reachable from its branches or
tags. The git user's ``transfer.hideRefs = ^refs/namespaces/`` (bootstrap.sh)
hides every pin from other views and refuses pushes to them; a pin unused for
PIN_MAX_AGE is removed.

Standard library only: it is copied onto the git server as one file.
"""
import argparse
import base64
import hashlib
import hmac
import http.server
import os
import re
import socketserver
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse

# token file lines: "<sha256 hex of the secret> <login> <gitolite user> <expires
# epoch, 0: never> <repo name, *: the user's own access>"
TOKENS_PATH = os.path.join('.gitolite', 'http', 'tokens')
TLS_CERT_PATH = os.path.join('.gitolite', 'http', 'tls.crt')
TLS_KEY_PATH = os.path.join('.gitolite', 'http', 'tls.key')
# renamed repos' old names: "OLD NEW message" lines (solum_git/server/names.py,
# MOVED_FILE; this program is one file on the server and cannot import it)
MOVED_PATH = os.path.join('.gitolite', 'solum', 'moved')
PIN_PREFIX = 'pin'
PIN_NAMESPACE = 'pin-'
PIN_MAX_AGE = 24 * 3600
PIN_MARKERS = 'solum-git-pins'
HIDE_PINS = '^refs/namespaces/'
REALM = 'solum-git'
GITOLITE_SHELL = '/usr/share/gitolite3/gitolite-shell'
REPO_NAME = re.compile(r'[A-Za-z0-9][A-Za-z0-9._-]{0,99}')
_PATH = re.compile(r'/(?:%s/([0-9a-f]{40})/)?([A-Za-z0-9][A-Za-z0-9._-]{0,99})\.git/'
                   r'(info/refs|git-upload-pack|git-receive-pack)' % PIN_PREFIX)
SERVICES = ('git-upload-pack', 'git-receive-pack')
IDLE_TIMEOUT = 120
CHUNK = 64 * 1024
_ENV_PATH = '/usr/local/bin:/usr/bin:/bin'


class Tokens:
    """The token file, read again whenever it changes (gitolite replaces it)."""

    def __init__(self, path):
        self.path = path
        self._stamp = None
        self._by_hash = {}
        self._lock = threading.Lock()

    def _load(self):
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return {}
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        with self._lock:
            if stamp == self._stamp:
                return self._by_hash
        by_hash = {}
        with open(self.path, encoding='ascii', errors='replace') as f:
            for line in f:
                parts = line.split()
                if len(parts) != 5 or line.startswith('#'):
                    continue
                digest, login, user, expires, repo = parts
                if not expires.isdigit():
                    continue
                by_hash[digest] = (login, user, int(expires), repo)
        with self._lock:
            self._stamp, self._by_hash = stamp, by_hash
        return by_hash

    def check(self, header, now=None):
        """(gitolite user, repo scope) for an ``Authorization`` header, or None."""
        if not header or not header[:6].lower() == 'basic ':
            return None
        try:
            login, _, secret = base64.b64decode(header[6:].strip(), validate=True) \
                .decode('utf-8').partition(':')
        except (ValueError, UnicodeDecodeError):
            return None
        if not secret:
            return None
        found = self._load().get(hashlib.sha256(secret.encode()).hexdigest())
        if found is None:
            return None
        want_login, user, expires, repo = found
        if not hmac.compare_digest(login.encode(), want_login.encode()):
            return None
        if expires and (now or time.time()) >= expires:
            return None
        return user, repo


def parse_request(path, query, method):
    """(pin sha or None, repo, service, push) of a smart-HTTP request, or None."""
    m = _PATH.fullmatch(path)
    if m is None:
        return None
    pin, repo, rest = m.groups()
    if '..' in repo or repo.endswith('.git') or repo == 'gitolite-admin':
        return None
    if rest == 'info/refs':
        service = urllib.parse.parse_qs(query).get('service', [''])
        if method != 'GET' or len(service) != 1 or service[0] not in SERVICES:
            return None
        service = service[0]
    else:
        if method != 'POST':
            return None
        service = rest
    return pin, repo, service, service == 'git-receive-pack'


class Front:
    """What a request needs: the git home, gitolite, the tokens, the pins."""

    def __init__(self, home, gitolite_shell=GITOLITE_SHELL, pin_max_age=PIN_MAX_AGE):
        self.home = home
        self.repos = os.path.join(home, 'repositories')
        self.gitolite_shell = gitolite_shell
        self.tokens = Tokens(os.path.join(home, TOKENS_PATH))
        self.pin_max_age = pin_max_age
        self._pin_lock = threading.Lock()

    def env(self):
        return {'PATH': _ENV_PATH, 'LANG': 'C', 'HOME': self.home,
                'GITOLITE_HTTP_HOME': self.home, 'GIT_HTTP_EXPORT_ALL': '1'}

    def git(self, repo, *args):
        return subprocess.run(['git', '--git-dir', os.path.join(self.repos, repo + '.git')]
                              + list(args), env=self.env(), capture_output=True,
                              text=True, stdin=subprocess.DEVNULL, timeout=60)

    def moved(self, repo):
        """(new name, refusal) if ``repo`` is an old name of a renamed repo, else None."""
        try:
            with open(os.path.join(self.home, MOVED_PATH), encoding='utf-8',
                      errors='replace') as f:
                for line in f:
                    parts = line.rstrip('\n').split(' ', 2)
                    if len(parts) == 3 and parts[0] == repo \
                            and REPO_NAME.fullmatch(parts[0]) \
                            and REPO_NAME.fullmatch(parts[1]):
                        return parts[1], parts[2]
        except FileNotFoundError:
            pass
        return None

    def may_read(self, repo, user):
        """gitolite's own answer, before a pin is made in a repo."""
        done = subprocess.run(['gitolite', 'access', '-q', repo, user, 'R', 'any'],
                              env=self.env(), capture_output=True,
                              stdin=subprocess.DEVNULL, timeout=60)
        return done.returncode == 0

    def ensure_pin(self, repo, sha):
        """Make (or refresh) the pin of ``sha``; False if it is no commit of the repo."""
        if self.git(repo, 'cat-file', '-t', sha).stdout.strip() != 'commit':
            return False
        found = self.git(repo, 'for-each-ref', '--count=1', '--contains', sha,
                         '--format=%(refname)', 'refs/heads', 'refs/tags')
        if found.returncode != 0 or not found.stdout.strip():
            return False
        ns = 'refs/namespaces/%s%s' % (PIN_NAMESPACE, sha)
        with self._pin_lock:
            if self.git(repo, 'update-ref', ns + '/refs/heads/master', sha).returncode:
                return False
            self.git(repo, 'symbolic-ref', ns + '/HEAD', ns + '/refs/heads/master')
            markers = os.path.join(self.repos, repo + '.git', PIN_MARKERS)
            os.makedirs(markers, mode=0o700, exist_ok=True)
            with open(os.path.join(markers, sha), 'w'):
                pass
            self.prune(repo, markers, keep=sha)
        return True

    def prune(self, repo, markers, keep=None, now=None):
        """Remove the pins of ``repo`` nobody fetched for pin_max_age."""
        now = now or time.time()
        for name in os.listdir(markers):
            if name == keep or not re.fullmatch('[0-9a-f]{40}', name):
                continue
            path = os.path.join(markers, name)
            try:
                if now - os.stat(path).st_mtime < self.pin_max_age:
                    continue
            except FileNotFoundError:
                continue
            ns = 'refs/namespaces/%s%s' % (PIN_NAMESPACE, name)
            self.git(repo, 'update-ref', '--no-deref', '-d', ns + '/HEAD')
            self.git(repo, 'update-ref', '-d', ns + '/refs/heads/master')
            os.unlink(path)


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = 'solum-git-http'
    sys_version = ''
    timeout = IDLE_TIMEOUT

    def do_GET(self):
        self.handle_safely('GET')

    def do_POST(self):
        self.handle_safely('POST')

    def handle_safely(self, method):
        try:
            self.handle_git(method)
        except (ConnectionResetError, BrokenPipeError):
            pass  # the client went away (git drops the connection after a 401)
        except Exception as e:
            self.log_message('error: %r', e)
            try:
                self.reply(500, 'internal error of the git server')
            except OSError:
                pass

    def log_message(self, fmt, *args):
        sys.stderr.write('%s %s %s\n' % (time.strftime('%Y-%m-%dT%H:%M:%S'),
                                         self.address_string(), fmt % args))

    def reply(self, code, text, headers=()):
        body = (text + '\n').encode()
        self.send_response(code)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header('Content-Type', 'text/plain')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_git(self, method):
        front = self.server.front
        path, _, query = self.path.partition('?')
        if path == '/healthz' and method == 'GET':
            return self.reply(200, 'ok')
        request = parse_request(path, query, method)
        if request is None:
            return self.reply(404, 'not a git repository URL of this server '
                                   '(smart HTTP only: /<repo>.git)')
        pin, repo, service, push = request
        if pin and push:
            return self.reply(403, 'a pinned view is read-only')
        found = front.tokens.check(self.headers.get('Authorization'))
        if found is None:
            return self.reply(401, 'a token is needed (user name and token as '
                                   'password)',
                              [('WWW-Authenticate', 'Basic realm="%s"' % REALM)])
        user, scope = found
        moved = front.moved(repo)
        if moved and scope in ('*', moved[0]) and front.may_read(moved[0], user):
            # a renamed repo's old name (a deploy token follows its repo); git
            # shows a text/plain body of an error as "remote:" lines
            return self.reply(404, moved[1])
        if scope != '*' and scope != repo:
            return self.reply(404, 'repository not found')
        env = front.env()
        if pin:
            if not front.may_read(repo, user) or not front.ensure_pin(repo, pin):
                return self.reply(404, 'repository or commit not found')
            # this view shows its own namespace (the git user's config hides all)
            shown = '!%s%s%s/' % (HIDE_PINS, PIN_NAMESPACE, pin)
            env.update({'GIT_NAMESPACE': PIN_NAMESPACE + pin, 'GIT_CONFIG_COUNT': '1',
                        'GIT_CONFIG_KEY_0': 'transfer.hideRefs',
                        'GIT_CONFIG_VALUE_0': shown})
        rest = path.split('.git/', 1)[1]
        env.update({
            'GATEWAY_INTERFACE': 'CGI/1.1', 'SERVER_PROTOCOL': 'HTTP/1.1',
            'REQUEST_METHOD': method, 'PATH_INFO': '/%s.git/%s' % (repo, rest),
            'REQUEST_URI': '/%s.git/%s' % (repo, rest) + ('?' + query if query else ''),
            'QUERY_STRING': query, 'REMOTE_USER': user,
            'GIT_PROJECT_ROOT': front.repos,
            'REMOTE_ADDR': self.client_address[0],
            'REMOTE_PORT': str(self.client_address[1]),
            'SERVER_ADDR': self.server.server_address[0],
            'SERVER_PORT': str(self.server.server_address[1]),
            'CONTENT_TYPE': self.headers.get('Content-Type', ''),
        })
        for header, name in (('Content-Length', 'CONTENT_LENGTH'),
                             ('Content-Encoding', 'HTTP_CONTENT_ENCODING'),
                             ('Git-Protocol', 'GIT_PROTOCOL')):
            if self.headers.get(header):
                env[name] = self.headers[header]
        if self._chunked():
            # http-backend reads to the end when no length is given
            env.pop('CONTENT_LENGTH', None)
        self.run_cgi(env, method == 'POST')

    def _chunked(self):
        return 'chunked' in self.headers.get('Transfer-Encoding', '').lower()

    def _body(self):
        """The request body, de-chunked."""
        if self._chunked():
            while True:
                size = int(self.rfile.readline(64).split(b';')[0].strip() or b'0', 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b'\r\n', b'\n', b''):
                        pass
                    return
                left = size
                while left:
                    data = self.rfile.read(min(left, CHUNK))
                    if not data:
                        return
                    left -= len(data)
                    yield data
                self.rfile.readline(8)
        left = int(self.headers.get('Content-Length') or 0)
        while left > 0:
            data = self.rfile.read(min(left, CHUNK))
            if not data:
                return
            left -= len(data)
            yield data

    def run_cgi(self, env, has_body):
        proc = subprocess.Popen([self.server.front.gitolite_shell], env=env,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=self.server.log, cwd=self.server.front.home)

        def feed():
            try:
                if has_body:
                    for data in self._body():
                        proc.stdin.write(data)
            except (OSError, ValueError):
                pass
            finally:
                try:
                    proc.stdin.close()
                except OSError:
                    pass

        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        try:
            self._relay(proc.stdout)
        finally:
            proc.stdout.close()
            writer.join(IDLE_TIMEOUT)
            proc.wait()

    def _relay(self, out):
        """CGI answer -> HTTP answer: its Status header, its headers, its body."""
        code, headers = 200, []
        while True:
            line = out.readline(8192)
            if not line or line in (b'\r\n', b'\n'):
                break
            name, _, value = line.decode('latin-1').partition(':')
            if name.lower() == 'status':
                code = int(value.split()[0])
            else:
                headers.append((name.strip(), value.strip()))
        self.send_response(code)
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        while True:
            data = out.read1(CHUNK)
            if not data:
                break
            self.wfile.write(data)
        self.wfile.flush()


class TlsFiles:
    """An SSL context from the rendered certificate and key, renewed when they change."""

    def __init__(self, cert, key):
        self.cert, self.key = cert, key
        self._stamp = None
        self._ctx = None
        self._lock = threading.Lock()

    def context(self):
        try:
            stamp = tuple((st.st_ino, st.st_mtime_ns, st.st_size)
                          for st in (os.stat(self.cert), os.stat(self.key)))
        except FileNotFoundError:
            return None  # not rendered yet: the first admin push brings them
        with self._lock:
            if stamp != self._stamp:
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.minimum_version = ssl.TLSVersion.TLSv1_2
                ctx.load_cert_chain(self.cert, self.key)
                self._stamp, self._ctx = stamp, ctx
            return self._ctx


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    # a stack's front restarts on the same port at once
    allow_reuse_address = True
    tls = None
    log = None

    def finish_request(self, request, client_address):
        # in the request's own thread: a slow TLS handshake holds up nobody else
        if self.tls is not None:
            request.settimeout(IDLE_TIMEOUT)
            try:
                ctx = self.tls.context()
                if ctx is None:
                    return
                request = ctx.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError) as e:
                sys.stderr.write('TLS: %s\n' % e)
                return
        try:
            super().finish_request(request, client_address)
        finally:
            if self.tls is not None:
                # close_notify: an HTTP/1.0 body ends with the connection, and
                # clients (GnuTLS) refuse a TLS stream cut without it
                try:
                    request.unwrap()
                except (ssl.SSLError, OSError):
                    pass


def _detach(pidfile, log):
    """Fork into the background (own session); the child writes the pid file."""
    if os.fork():
        os._exit(0)
    os.setsid()
    if os.fork():
        os._exit(0)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    tmp = pidfile + '.tmp'
    with open(tmp, 'w') as f:
        f.write('%d\n' % os.getpid())
    os.replace(tmp, pidfile)


def main(argv=None):
    parser = argparse.ArgumentParser(prog='solum-git-http')
    parser.add_argument('command', choices=['serve'])
    parser.add_argument('--home', required=True)
    parser.add_argument('--listen', default='127.0.0.1')
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--pidfile', required=True)
    parser.add_argument('--log', required=True)
    parser.add_argument('--tls', action='store_true')
    parser.add_argument('--gitolite-shell', default=GITOLITE_SHELL)
    parser.add_argument('--pin-max-age', type=int, default=PIN_MAX_AGE)
    parser.add_argument('--foreground', action='store_true')
    args = parser.parse_args(argv)
    os.umask(0o077)
    server = Server((args.listen, args.port), Handler, bind_and_activate=True)
    server.front = Front(args.home, args.gitolite_shell, args.pin_max_age)
    if args.tls:
        server.tls = TlsFiles(os.path.join(args.home, TLS_CERT_PATH),
                              os.path.join(args.home, TLS_KEY_PATH))
    if args.foreground:
        with open(args.pidfile + '.tmp', 'w') as f:
            f.write('%d\n' % os.getpid())
        os.replace(args.pidfile + '.tmp', args.pidfile)
    else:
        _detach(args.pidfile, args.log)
    server.log = sys.stderr
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
