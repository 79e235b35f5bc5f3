"""Every URL solum-git builds, in one place: IPv6-safe, honouring public_url.

- ``api_url``: where the API answers (``[api] public_url``, else its listen
  address; a wildcard listen address is reached on loopback);
- ``callback_url``: where git servers post push events (``[hook]
  callback_url``, else under ``api_url``);
- ``git_url``: a repo on a git server over SSH;
- ``http_base``, ``http_url``: a git server's smart HTTP(S), a repo on it
  (never with credentials); ``clone_url``: that with a token's
  ``user:secret@`` (git given only a user name asks for the password and
  fails without a terminal); ``pin_url``: the read-only view whose only branch
  ``master`` is one commit (served by solum_git/httpfront/main.py);
- ``link``: an API link under a base URL.
"""
import re
import urllib.parse

from solum_git.common import addresses
from solum_git.httpfront import main as httpfront

CALLBACK_PATH = '/v1/hooks/post-receive'


def host_literal(host: str) -> str:
    """``host`` as it goes in a URL's authority: an IPv6 address in brackets."""
    if ':' in host and not host.startswith('['):
        return '[%s]' % host
    return host


def api_url(conf) -> str:
    """The API's base URL, without a trailing slash."""
    if conf.api.public_url:
        return conf.api.public_url.rstrip('/')
    host = conf.api.host
    if not host or addresses.is_unspecified(host):  # every interface: loopback
        host = '127.0.0.1'
    return 'http://%s:%d' % (host_literal(host), conf.api.port)


def callback_url(conf) -> str:
    """Where a git server's post-receive hook posts (its run-log URL is beside it)."""
    if conf.hook.callback_url:
        return conf.hook.callback_url
    return api_url(conf) + CALLBACK_PATH


def git_url(user: str, host: str, port: int | None, repo_name: str) -> str:
    """``ssh://user@host:port/repo`` (the port always written, 22 by default)."""
    return 'ssh://%s@%s:%d/%s' % (user, host_literal(host), port or 22, repo_name)


def http_base(conf, stack) -> str | None:
    """Where the stack's HTTP front answers (None while it has no address)."""
    public = conf.git_http.public_url
    if public:
        return public.replace('{stack}', stack.uuid).rstrip('/')
    if not stack.ssh_host:
        return None
    host = host_literal(stack.ssh_host)
    if stack.provisioner == 'local':
        return 'http://%s:%d' % (host, stack.http_port) if stack.http_port else None
    port = stack.http_port
    return 'https://%s' % host + (':%d' % port if port and port != 443 else '')


def http_url(conf, stack, repo_name: str) -> str | None:
    base = http_base(conf, stack)
    return '%s/%s.git' % (base, repo_name) if base else None


def clone_url(url: str, username: str, secret: str) -> str:
    """``url`` with ``username:secret`` as its user info."""
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc.rpartition('@')[2]
    auth = '%s:%s' % (urllib.parse.quote(username, safe=''),
                      urllib.parse.quote(secret, safe=''))
    return urllib.parse.urlunsplit(parts._replace(netloc='%s@%s' % (auth, netloc)))


_SHA = re.compile(r'^[0-9a-f]{40}$')


def pin_url(url: str, sha: str) -> str:
    """The pinned, read-only form of an http_url or clone_url: ``.../pin/<sha>/<repo>.git``."""
    if not isinstance(sha, str) or not _SHA.fullmatch(sha):
        raise ValueError('sha: must be 40 lower-case hex digits')
    parts = urllib.parse.urlsplit(url)
    head, _, repo = parts.path.rpartition('/')
    if not repo.endswith('.git'):
        raise ValueError('not a repo URL of a git server: %s' % parts.path)
    path = '%s/%s/%s/%s' % (head, httpfront.PIN_PREFIX, sha, repo)
    return urllib.parse.urlunsplit(parts._replace(path=path))


def link(base: str, *parts: str) -> str:
    """``base`` and path parts joined by single slashes."""
    return '/'.join([base.rstrip('/')] + [p.strip('/') for p in parts])


def ssh_host_port(url: str) -> tuple[str, int]:
    """(host, port) of an ``ssh://`` URL; ValueError for another kind."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != 'ssh' or not parts.hostname:
        raise ValueError('not an ssh:// URL: %s' % url)
    return parts.hostname, parts.port or 22
