"""The HTTP client both CLIs share: a keystoneauth1 session, the v1 URL, paging."""
import contextlib
import re
import urllib.parse

from keystoneauth1 import exceptions as ks_exc

SERVICE_TYPE = 'git'
INFRA = '/infrastructure'
UUID_RE = re.compile(r'^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$')
LIST_PAGE = 1000


class ApiError(Exception):
    """An answer the user must see as one line: the API's faultstring."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


def v1_url(endpoint):
    """Accept the service root with or without ``/v1`` (catalogs differ)."""
    url = endpoint.rstrip('/')
    return url if url.endswith('/v1') else url + '/v1'


def _fault(resp):
    try:
        body = resp.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ('faultstring', 'message', 'error'):
            value = body.get(key)
            if isinstance(value, dict):
                value = value.get('message')
            if value:
                return str(value).strip().splitlines()[0]
    text = (resp.text or '').strip()
    return text.splitlines()[0][:200] if text else resp.reason or 'no details'


def _next_link(resp):
    for part in (resp.headers.get('Link') or '').split(','):
        url, _, params = part.partition(';')
        if 'rel="next"' in params.replace(' ', ''):
            return url.strip().strip('<>')
    return None


@contextlib.contextmanager
def session_errors(target, base=None):
    """keystoneauth's exceptions (token, catalog, connection) as one-line ApiErrors."""
    try:
        yield
    except ks_exc.ConnectFailure as e:
        # the failing URL may be Keystone's, not the one we were about to call
        url = re.search(r'connection to (\S+?):? ', str(e))
        where = url.group(1).split('?')[0] if url else target
        if base and where.startswith(base):
            where = 'the solum-git API at %s' % where
        raise ApiError('cannot reach %s: %s' % (where, _reason(e)))
    except ks_exc.Unauthorized as e:
        # requests are sent with raise_exc=False: only getting a token raises this
        raise ApiError('Keystone refused the credentials: %s' % _reason(e), 401)
    except ks_exc.ClientException as e:
        raise ApiError('%s: %s' % (target, _reason(e)))


class Client:
    """``session`` authenticates (or not); ``endpoint`` is the API's root URL.

    ``headers`` are sent with every request: for a noauth service these are
    X-Project-Id and X-User-Id.
    """

    def __init__(self, session, endpoint, headers=None):
        self.session = session
        self.base = v1_url(endpoint)
        self.headers = dict(headers or {})

    def project_id(self):
        """The caller's project: its noauth header, else its Keystone token's."""
        found = self.headers.get('X-Project-Id')
        if not found:
            with session_errors('Keystone'):
                found = self.session.get_project_id()
        if not found:
            raise ApiError('no project: name one (PROJECT)')
        return found

    # -- HTTP ---------------------------------------------------------------

    def send(self, method, path, json=None, params=None, stream=False):
        """The raw response of a successful request; an ApiError otherwise.

        ``stream``: the body is read as it arrives (``resp.raw``), not at once.
        """
        url = self._on_our_endpoint(path) if '://' in path else self.base + path
        if params:
            query = {k: v for k, v in params.items() if v is not None}
            if query:
                url += '?' + urllib.parse.urlencode(query)
        with session_errors('the solum-git API at %s' % self.base, self.base):
            resp = self.session.request(url, method, json=json, headers=self.headers,
                                        raise_exc=False, stream=stream)
        if resp.status_code >= 400:
            raise ApiError('%s (HTTP %d)' % (_fault(resp), resp.status_code),
                           resp.status_code)
        return resp

    def _json(self, resp):
        if resp.status_code == 204 or not resp.content:
            return None
        try:
            return resp.json()
        except ValueError:
            raise ApiError('%s %s: the answer is not JSON'
                           % (resp.request.method, resp.url))

    def get(self, path, **params):
        return self._json(self.send('GET', path, params=params))

    def post(self, path, body):
        return self._json(self.send('POST', path, json=body))

    def put(self, path, body):
        return self._json(self.send('PUT', path, json=body))

    def delete(self, path):
        self.send('DELETE', path)

    def list(self, path, limit=None, marker=None, sort_key=None, sort_dir=None,
             **filters):
        """One page if ``limit`` is given, else every page (following ``Link``)."""
        params = dict(filters, limit=limit or LIST_PAGE, marker=marker,
                      sort_key=sort_key, sort_dir=sort_dir)
        resp = self.send('GET', path, params=params)
        page = self._json(resp) or []
        items = list(page)
        while limit is None and page:
            url = _next_link(resp)
            if not url:
                break
            resp = self.send('GET', url)
            page = self._json(resp) or []
            items.extend(page)
        return items

    def _on_our_endpoint(self, url):
        """A ``next`` link's path and query, on the endpoint we were given.

        The API builds links from its own idea of its URL, which a proxy may
        change; and credentials never go to another host.
        """
        link = urllib.parse.urlsplit(url)
        rel = link.path.split('/v1', 1)[-1]
        return self.base + rel + ('?' + link.query if link.query else '')

    # -- finding things by name or uuid ---------------------------------------

    def _find(self, kind, collection, ident, match_fields, by_name=False):
        if UUID_RE.match(ident):
            try:
                return self.get('%s/%s' % (collection, ident))
            except ApiError as e:
                if e.status != 404:
                    raise
        # where the API filters by name, the lookup is one indexed query
        candidates = self.list(collection, **({'name': ident} if by_name else {}))
        found = [item for item in candidates
                 if any(item.get(f) == ident for f in match_fields)]
        if not found:
            raise ApiError('%s %s not found' % (kind, ident), 404)
        if len(found) > 1:
            raise ApiError('%d %ss are named %s; give the uuid instead'
                           % (len(found), kind, ident), 409)
        return found[0]

    def find_repo(self, ident):
        return self._find('repo', INFRA + '/repos', ident, ('name',), by_name=True)

    def find_stack(self, ident):
        return self._find('stack', INFRA + '/stacks', ident, ('name',))

    def find_key(self, ident):
        return self._find('key', INFRA + '/keys', ident, ('name', 'fingerprint'))


def _reason(exc):
    text = str(exc).strip()
    # urllib3 buries "Connection refused" deep in a long repr
    errno = re.search(r'\[Errno -?\d+\] ([^\'")\]]+)', text)
    if errno:
        return errno.group(1).strip()
    return text.splitlines()[0] if text else type(exc).__name__
