#!/usr/bin/env python3
"""solum-git-hook: the post-receive program on a tenant git server.

    solum-git-hook post-receive --config FILE   ref lines on stdin; GL_USER, GL_REPO
    solum-git-hook flush [--retry-rejected] --config FILE

post-receive sends one signed event per push to solum-git and prints, as the
client's ``remote:`` lines, the push record and the runs it started. When the
API cannot be reached the event is spooled (same push id) and delivered before
the next post or by ``flush``; solum-git records a push id only once.

It runs on every push, so it is ONE file, standard library only, with as few
imports as possible, and it never makes a push fail.
"""
import os
import sys
import time

# Start-up time is the hook's cost on every push: the json, socket and hashlib
# modules pull in re, enum, selectors and OpenSSL (~10-25 ms here). Their C
# halves do the same work without those imports; each has a stdlib fallback.
try:
    from _sha256 import sha256
except ImportError:
    try:
        from _sha2 import sha256
    except ImportError:
        from hashlib import sha256
try:
    from _json import encode_basestring_ascii as _quote
    from _json import make_scanner as _make_scanner
except ImportError:
    _quote = _make_scanner = None

PREFIX = 'solum-git: '
ZERO = '0' * 40
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 10.0
MAX_REFS = 1000
MAX_RESPONSE = 1024 * 1024
# solum_git.common.states.RUN_FINAL (this file is copied alone to git servers;
# test_hook checks the two agree)
RUN_FINAL = ('SUCCESS', 'FAILED', 'ERROR')
# what one post-receive spends on older spooled events before its own
FLUSH_MAX_EVENTS = 20
FLUSH_MAX_SECONDS = 10.0
# delivered later: the API is down, overloaded or restarting
TRANSIENT = (408, 425, 429, 500, 502, 503, 504)
SIGNATURE_VERSION = 'v1'

_IPAD = bytes(b ^ 0x36 for b in range(256))
_OPAD = bytes(b ^ 0x5c for b in range(256))


def _no_constant(name):
    raise ValueError('%s is not JSON' % name)


class _ScanContext:
    """What json's C scanner reads from a JSONDecoder: plain JSON, strict."""
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = staticmethod(_no_constant)


def dumps(value):
    """Compact JSON with sorted keys, equal to json.dumps(..., sort_keys=True)."""
    if _quote is None:
        import json
        return json.dumps(value, separators=(',', ':'), sort_keys=True)
    if isinstance(value, str):
        return _quote(value)
    if value is True or value is False or value is None:
        return {True: 'true', False: 'false', None: 'null'}[value]
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return float.__repr__(value)
    if isinstance(value, (list, tuple)):
        return '[%s]' % ','.join(dumps(v) for v in value)
    if isinstance(value, dict):
        return '{%s}' % ','.join('%s:%s' % (_quote(k), dumps(value[k]))
                                 for k in sorted(value))
    raise TypeError('%r is not JSON serializable' % (value,))


def loads(text):
    """json.loads for a str or UTF-8 bytes; ValueError when it is not JSON."""
    if isinstance(text, bytes):
        text = text.decode('utf-8')
    if _make_scanner is None:
        import json
        return json.loads(text)
    start = len(text) - len(text.lstrip(' \t\n\r'))
    try:
        value, end = _make_scanner(_ScanContext())(text, start)
    except StopIteration as e:
        raise ValueError('not JSON at character %s' % e.value)
    if text[end:].strip(' \t\n\r'):
        raise ValueError('extra data after JSON at character %d' % end)
    return value


class Transient(Exception):
    """The event could not be delivered now; keep it in the spool."""


class Rejected(Exception):
    """The API refused the event for good (4xx); keep it aside for an operator."""


def hmac_sha256(key, message):
    """RFC 2104 HMAC-SHA256 (hex), equal to hmac.new(key, message, 'sha256')."""
    if len(key) > 64:
        key = sha256(key).digest()
    key = key.ljust(64, b'\0')
    inner = sha256(key.translate(_IPAD) + message).digest()
    return sha256(key.translate(_OPAD) + inner).hexdigest()


def signed_message(stack_id, timestamp, nonce, body):
    """What the signature covers; the API builds the same bytes."""
    return ('%s\n%s\n%s\n%s\n' % (SIGNATURE_VERSION, stack_id, timestamp,
                                  nonce)).encode() + body


def sign(secret, stack_id, body, now=None):
    """The headers of one signed request (fresh timestamp and nonce each time)."""
    timestamp = str(int(now if now is not None else time.time()))
    nonce = os.urandom(16).hex()
    digest = hmac_sha256(secret.encode(), signed_message(stack_id, timestamp, nonce, body))
    return [('X-Solum-Git-Stack', stack_id), ('X-Solum-Git-Timestamp', timestamp),
            ('X-Solum-Git-Nonce', nonce),
            ('X-Solum-Git-Signature', '%s=%s' % (SIGNATURE_VERSION, digest))]


def _split_url(url):
    scheme, sep, rest = url.partition('://')
    if not sep or scheme not in ('http', 'https'):
        raise ValueError('callback_url must be http:// or https://')
    netloc, _, path = rest.partition('/')
    netloc = netloc.rpartition('@')[2]
    if netloc.startswith('['):
        host, _, port = netloc[1:].partition(']')
        port = port.lstrip(':')
    else:
        host, _, port = netloc.partition(':')
    return scheme, host, int(port or (443 if scheme == 'https' else 80)), '/' + path


def _dechunk(data):
    out = []
    while data:
        size_line, _, data = data.partition(b'\r\n')
        size = int(size_line.split(b';')[0], 16)
        if size == 0:
            break
        out.append(data[:size])
        data = data[size + 2:]
    return b''.join(out)


def _connect(scheme, host, port, timeout, cafile):
    if scheme == 'https':
        import socket
        import ssl
        sock = socket.create_connection((host, port), timeout=timeout)
        return ssl.create_default_context(cafile=cafile).wrap_socket(
            sock, server_hostname=host)
    import _socket
    error = OSError('no address for %s' % host)
    # an ASCII name as bytes: a str would load the idna codec (and re) first
    name = host.encode('ascii') if host.isascii() else host
    for family, kind, proto, _name, address in _socket.getaddrinfo(
            name, port, 0, _socket.SOCK_STREAM):
        sock = _socket.socket(family, kind, proto)
        sock.settimeout(timeout)
        try:
            sock.connect(address)
            return sock
        except OSError as e:
            error = e
            sock.close()
    raise error


def http_post(url, body, headers, cafile=None, timeout=READ_TIMEOUT):
    """POST over a raw socket: http.client's imports cost more than the request."""
    scheme, host, port, path = _split_url(url)
    deadline = time.monotonic() + timeout
    try:
        sock = _connect(scheme, host, port, min(CONNECT_TIMEOUT, timeout), cafile)
    except OSError as e:
        raise Transient('cannot connect to %s:%s (%s)' % (host, port, e))
    try:
        sock.settimeout(timeout)
        lines = ['POST %s HTTP/1.1' % path,
                 'Host: %s:%d' % ('[%s]' % host if ':' in host else host, port),
                 'Content-Type: application/json', 'Accept: application/json',
                 'Content-Length: %d' % len(body), 'Connection: close',
                 'User-Agent: solum-git-hook']
        lines.extend('%s: %s' % h for h in headers)
        sock.sendall(('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1') + body)
        raw = b''
        length = None
        while True:
            if time.monotonic() > deadline:
                raise Transient('no answer from %s in %ss' % (host, timeout))
            data = sock.recv(65536)
            if not data:
                break
            raw += data
            if len(raw) > MAX_RESPONSE:
                raise Transient('answer from %s is too large' % host)
            if length is None and b'\r\n\r\n' in raw:
                head = raw.split(b'\r\n\r\n', 1)[0].lower()
                for line in head.split(b'\r\n')[1:]:
                    name, _, value = line.partition(b':')
                    if name.strip() == b'content-length':
                        length = len(head) + 4 + int(value)
            if length is not None and len(raw) >= length:
                break
    except (OSError, ValueError) as e:
        raise Transient('%s:%s: %s' % (host, port, e))
    finally:
        sock.close()
    head, _, payload = raw.partition(b'\r\n\r\n')
    try:
        status = int(head.split(b' ', 2)[1])
    except (IndexError, ValueError):
        raise Transient('%s:%s answered something that is not HTTP' % (host, port))
    if b'\r\ntransfer-encoding: chunked' in head.lower():
        payload = _dechunk(payload)
    return status, payload


def load_config(path):
    with open(path) as f:
        conf = loads(f.read())
    if not isinstance(conf, dict):
        raise ValueError('%s: must be a JSON object' % path)
    for key in ('callback_url', 'stack_id', 'secret'):
        if not conf.get(key):
            raise ValueError('%s: "%s" is missing' % (path, key))
    conf.setdefault('spool_dir', os.path.join(os.path.dirname(os.path.abspath(path)),
                                              'spool'))
    return conf


def read_refs(stream):
    refs = []
    for line in stream:
        parts = line.split()
        if len(parts) == 3:
            refs.append({'old': parts[0], 'new': parts[1], 'ref': parts[2]})
    return refs


def make_event(conf, refs, env, now=None):
    repo = env.get('GL_REPO')
    if not repo:  # a plain bare repo: its directory name
        repo = os.path.basename(os.path.abspath(env.get('GIT_DIR', '.')))
        repo = repo[:-4] if repo.endswith('.git') else repo
    pusher = env.get('GL_USER') or env.get('USER') or 'unknown'
    event = {
        'push_id': os.urandom(16).hex(), 'stack_id': conf['stack_id'], 'repo': repo,
        'pusher': pusher, 'refs': refs[:MAX_REFS], 'truncated': len(refs) > MAX_REFS,
        'pushed_at': int(now if now is not None else time.time()),
    }
    size = repo_size(os.path.join(env.get('GIT_DIR', '.'), 'objects'))
    if size is not None:
        event['size_bytes'] = size
    return event


def repo_size(objects):
    """Bytes under the repo's objects/ after the push (the repo view's size_bytes)."""
    if not os.path.isdir(objects):
        return None
    total = 0
    for root, _dirs, files in os.walk(objects):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass  # packed away meanwhile
    return total


def encode(event):
    return dumps(event).encode()


def deliver(conf, body, url=None):
    """POST one signed request; return the API's answer or raise Transient / Rejected."""
    status, payload = http_post(url or conf['callback_url'], body,
                                sign(conf['secret'], conf['stack_id'], body),
                                conf.get('cafile'), float(conf.get('timeout') or READ_TIMEOUT))
    if 200 <= status < 300:
        try:
            return loads(payload)
        except ValueError:
            return {}
    if status in TRANSIENT:
        raise Transient('the API answered %d' % status)
    try:
        reason = loads(payload).get('faultstring') or ''
    except (ValueError, AttributeError):
        reason = payload[:200].decode('utf-8', 'replace')
    raise Rejected('the API refused the push (%d): %s' % (status, reason))


class Spool:
    """Events not delivered yet, one file each, named so that they sort by age."""

    def __init__(self, directory):
        self.dir = directory
        self.rejected_dir = os.path.join(directory, 'rejected')

    def _write(self, directory, name, body):
        os.makedirs(directory, mode=0o700, exist_ok=True)
        tmp = os.path.join(directory, '.%s.tmp' % name)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, 'wb') as f:
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, os.path.join(directory, name))

    def add(self, event, body, rejected=False):
        # nanoseconds: two pushes in one second still flush in push order
        self._write(self.rejected_dir if rejected else self.dir,
                    '%020d-%s.json' % (time.time_ns(), event['push_id']), body)

    def names(self):
        try:
            return sorted(n for n in os.listdir(self.dir) if n.endswith('.json'))
        except FileNotFoundError:
            return []

    def read(self, name):
        with open(os.path.join(self.dir, name), 'rb') as f:
            return f.read()

    def done(self, name):
        try:
            os.unlink(os.path.join(self.dir, name))
        except FileNotFoundError:
            pass  # a concurrent flush delivered it too; the push id makes that harmless

    def reject(self, name, body):
        self._write(self.rejected_dir, name, body)
        self.done(name)

    def retry_rejected(self):
        try:
            names = os.listdir(self.rejected_dir)
        except FileNotFoundError:
            return 0
        for name in names:
            if name.endswith('.json'):
                os.replace(os.path.join(self.rejected_dir, name),
                           os.path.join(self.dir, name))
        return len(names)

    def lock(self):
        """One flusher at a time; None when another process holds the spool."""
        import fcntl
        os.makedirs(self.dir, mode=0o700, exist_ok=True)
        fd = os.open(os.path.join(self.dir, '.lock'), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return None
        return fd


def flush(conf, spool, out, max_events=None, max_seconds=None):
    """Deliver spooled events oldest first; stop at the first transient failure.

    Returns (delivered, rejected, left, error).
    """
    names = spool.names()
    if not names:
        return 0, 0, 0, None
    fd = spool.lock()
    if fd is None:
        return 0, 0, len(names), None
    delivered = rejected = 0
    error = None
    start = time.monotonic()
    try:
        for name in spool.names():
            if max_events is not None and delivered + rejected >= max_events:
                break
            if max_seconds is not None and time.monotonic() - start > max_seconds:
                break
            body = spool.read(name)
            try:
                deliver(conf, body)
            except Transient as e:
                error = str(e)
                break
            except Rejected as e:
                out.write('%sspooled push %s: %s\n' % (PREFIX, name[21:-5], e))
                spool.reject(name, body)
                rejected += 1
                continue
            except Exception as e:  # unforeseen: keep the event for the next flush
                error = '%s: %s' % (type(e).__name__, e)
                break
            spool.done(name)
            delivered += 1
    finally:
        os.close(fd)
    return delivered, rejected, len(spool.names()), error


def report(answer, out):
    push = answer.get('push') or {}
    if answer.get('duplicate'):
        out.write('%spush already recorded: %s\n' % (PREFIX, push.get('uri', '')))
    else:
        out.write('%spush recorded: %s\n' % (PREFIX, push.get('uri', '')))
    for run in answer.get('runs') or []:
        out.write('%s%s run for %s %s: %s\n' % (
            PREFIX, run.get('type'), run.get('ref', '').replace('refs/heads/', ''),
            (run.get('status') or '').lower(), run.get('uri')))
    for message in answer.get('messages') or []:
        out.write('%s%s\n' % (PREFIX, message))


def stream(conf, runs, seconds, out):
    """Show the local runs' logs while the client waits, for at most ``seconds``.

    Only whole lines until a run ends; a client that hangs up ends this hook,
    not the run (it runs in solum-git's engine).
    """
    url = conf['callback_url'].rsplit('/', 1)[0] + '/run-log'
    offsets = {run['uuid']: 0 for run in runs}
    deadline = time.monotonic() + min(seconds, 600)
    while offsets:
        for uuid in list(offsets):
            try:
                answer = deliver(conf, encode({'run': uuid, 'offset': offsets[uuid]}), url)
            except (Transient, Rejected) as e:
                out.write('%srun log not available (%s)\n' % (PREFIX, e))
                return
            text = answer.get('log') or ''
            ended = answer.get('status') in RUN_FINAL
            shown = text if ended else text[:text.rfind('\n') + 1]
            for line in shown.splitlines():
                out.write('%s| %s\n' % (PREFIX, line))
            offsets[uuid] += len(shown)
            if ended and len(shown) == len(text) and len(text) < 65536:
                del offsets[uuid]
                out.write('%slocal run %s: %s%s\n' % (
                    PREFIX, answer['status'], answer.get('status_reason') or '',
                    ' %s' % answer['app_url'] if answer.get('app_url') else ''))
        out.flush()
        if offsets:
            if time.monotonic() > deadline:
                out.write('%sstill running; its log: %s\n' % (
                    PREFIX, ', '.join(r['log_uri'] for r in runs if r['uuid'] in offsets)))
                return
            time.sleep(0.5)


def post_receive(conf, stdin, out, env):
    refs = read_refs(stdin)
    if not refs or env.get('GL_REPO') == 'gitolite-admin':
        return
    if conf.get('admin_user') and env.get('GL_USER') == conf['admin_user']:
        return  # solum-git's own pushes start nothing
    event = make_event(conf, refs, env)
    body = encode(event)
    spool = Spool(conf['spool_dir'])
    try:
        delivered, _rejected, _left, error = flush(conf, spool, out, FLUSH_MAX_EVENTS,
                                                   FLUSH_MAX_SECONDS)
    except Exception as e:  # a broken spool must not cost this push its report
        delivered, error = 0, None
        out.write('%sspool not flushed (%s: %s)\n' % (PREFIX, type(e).__name__, e))
    if delivered:
        out.write('%sdelivered %d earlier push(es) from the spool\n' % (PREFIX, delivered))
    if error is None:
        try:
            answer = deliver(conf, body)
        except Transient as e:
            error = str(e)
        except Rejected as e:
            out.write('%s%s; kept on the server in %s\n' % (PREFIX, e, spool.rejected_dir))
            spool.add(event, body, rejected=True)
            return
        except Exception as e:  # unforeseen: spooled like an outage, never lost
            error = '%s: %s' % (type(e).__name__, e)
        else:
            report(answer, out)
            local = [r for r in answer.get('runs') or [] if r.get('type') == 'local']
            if answer.get('stream_seconds') and local:
                out.flush()
                stream(conf, local, answer['stream_seconds'], out)
            return
    spool.add(event, body)
    out.write('%ssolum-git is not reachable (%s); push %s is spooled and will be '
              'delivered later (nothing is lost)\n' % (PREFIX, error, event['push_id']))


def flush_command(conf, out, retry_rejected=False):
    spool = Spool(conf['spool_dir'])
    if retry_rejected:
        spool.retry_rejected()
    delivered, rejected, left, error = flush(conf, spool, out)
    out.write('%sdelivered %d, rejected %d, left %d%s\n' % (
        PREFIX, delivered, rejected, left, ' (%s)' % error if error else ''))
    return 0 if left == 0 else 3


def _parse_args(argv):
    if not argv or argv[0] not in ('post-receive', 'flush'):
        raise SystemExit('usage: solum-git-hook {post-receive|flush} '
                         '[--retry-rejected] --config FILE')
    command, config, retry = argv[0], None, False
    args = iter(argv[1:])
    for arg in args:
        if arg == '--config':
            config = next(args, None)
        elif arg.startswith('--config='):
            config = arg.split('=', 1)[1]
        elif arg == '--retry-rejected':
            retry = True
        else:
            raise SystemExit('solum-git-hook: unknown argument %s' % arg)
    if not config:
        config = os.path.expanduser('~/.solum-git/hook.json')
    return command, config, retry


def main(argv=None, stdin=None, out=None, env=None):
    argv = sys.argv[1:] if argv is None else argv
    out = out or sys.stdout
    command, config, retry = _parse_args(argv)
    try:
        conf = load_config(config)
    except (OSError, ValueError) as e:
        out.write('%shook not configured (%s); push not reported\n' % (PREFIX, e))
        return 0 if command == 'post-receive' else 2
    if command == 'flush':
        return flush_command(conf, out, retry)
    try:
        post_receive(conf, stdin or sys.stdin, out, os.environ if env is None else env)
    except Exception as e:  # a push must never fail because of this hook
        out.write('%shook error (%s: %s); push not reported\n'
                  % (PREFIX, type(e).__name__, e))
    out.flush()
    return 0


if __name__ == '__main__':
    sys.exit(main())
