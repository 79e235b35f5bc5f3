"""WSGI middleware of our own: Content-Length, JSON bodies, noauth, JSON errors.

The request id and the body size limit are oslo.middleware's (api/app.py).
"""
import io
import json
import logging
import math
import urllib.parse

import webob
import webob.dec

from solum_git.common import exception
from solum_git.common import validation

LOG = logging.getLogger(__name__)


def fault(status, message):
    body = json.dumps({'faultcode': 'Client' if status < 500 else 'Server',
                       'faultstring': message, 'debuginfo': None})
    return webob.Response(body=body.encode(), status=status,
                          content_type='application/json', charset='utf-8')


# JSON bodies: the API's objects are a few levels deep; anything else is an attack
MAX_DEPTH = 32
_INT_MIN, _INT_MAX = -2 ** 63, 2 ** 64 - 1


class BadBody(ValueError):
    """The body is not JSON the API takes; the text is the rule (``body: ...``)."""


def _no_duplicates(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            # parsers disagree on which one wins: the body means two things
            raise BadBody('body: key %s appears twice in one object' % json.dumps(key)[:80])
        seen[key] = value
    return seen


def _int(text):
    if len(text.lstrip('-')) > 20 or not _INT_MIN <= int(text) <= _INT_MAX:
        raise BadBody('body: integers must lie between -2**63 and 2**64-1')
    return int(text)


def _float(text):
    value = float(text)
    if not math.isfinite(value):
        raise BadBody('body: numbers must be finite (%s... is too large)' % text[:20])
    return value


def _constant(name):
    raise BadBody('body: %s is not JSON (numbers must be finite)' % name)


def _check_tree(value):
    """Depth, and strings a database can store (no NUL, no lone surrogates)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_DEPTH:
                raise BadBody('body: must not nest more than %d levels deep' % MAX_DEPTH)
            children = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in children:
                if isinstance(key, str):
                    _check_string(key)
                stack.append((child, depth + 1))
        elif isinstance(item, str):
            _check_string(item)


def _check_string(text):
    if '\x00' in text:
        raise BadBody('body: strings must not contain NUL (\\u0000)')
    try:
        text.encode('utf-8')
    except UnicodeEncodeError:
        raise BadBody('body: strings must be valid Unicode (a lone \\ud800-\\udfff '
                      'surrogate is not)')


def load_json(raw):
    """The body as a JSON object, or BadBody saying which rule it broke."""
    try:
        text = raw.decode('utf-8')
    except UnicodeDecodeError:
        raise BadBody('body: must be UTF-8')
    if text.startswith('\ufeff'):
        raise BadBody('body: must not start with a byte order mark')
    try:
        body = json.loads(text, object_pairs_hook=_no_duplicates, parse_int=_int,
                          parse_float=_float, parse_constant=_constant)
    except BadBody:
        raise
    except RecursionError:
        raise BadBody('body: must not nest more than %d levels deep' % MAX_DEPTH)
    except ValueError:
        raise BadBody('body: must be valid JSON')
    if not isinstance(body, dict):
        raise BadBody('body: must be a JSON object')
    _check_tree(body)
    return body


class JsonOnly:
    """Bodies must be one JSON object; JSON in, JSON out (no XML parsing at all)."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        environ['HTTP_ACCEPT'] = 'application/json'
        length = environ.get('CONTENT_LENGTH')
        if length and length != '0':
            raw = environ['wsgi.input'].read(int(length))
            environ['wsgi.input'] = io.BytesIO(raw)
            try:
                load_json(raw)
            except BadBody as e:
                return fault(400, str(e))(environ, start_response)
            environ['CONTENT_TYPE'] = 'application/json'
        return self.app(environ, start_response)


class ContentLength:
    """What oslo.middleware's size limit cannot see: a body it would read unbounded.

    webob reads Content-Length with int(), which takes "-1" (then the body is
    read to EOF, past the limit), "+5" and "1_0"; a chunked body has no length
    and is read to its end only where the server marks it terminated.
    """

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        length = environ.get('CONTENT_LENGTH')
        if length:
            if not (length.isascii() and length.isdigit()):
                return fault(400, 'Content-Length: must be a non-negative integer')(
                    environ, start_response)
        elif ('chunked' in environ.get('HTTP_TRANSFER_ENCODING', '').lower()
              and not environ.get('wsgi.input_terminated')):
            # a server that decodes chunked bodies says so (gunicorn does);
            # the size limit then counts what is read
            return fault(411, 'Content-Length: required (chunked bodies are not '
                         'accepted by this server)')(environ, start_response)
        return self.app(environ, start_response)


class NoAuth:
    """Development auth: trust X-Project-Id / X-User-Id / X-Roles, require them."""

    def __init__(self, app):
        self.app = app

    @webob.dec.wsgify
    def __call__(self, req):
        for header, field in (('X-Project-Id', 'project_id'), ('X-User-Id', 'user_id')):
            value = req.headers.get(header)
            if not value:
                return fault(401, '%s: header required (auth_strategy = noauth)'
                             % header)
            try:
                validation.ident(value, header)
            except exception.InvalidInput as e:
                return fault(401, str(e))
        req.environ['HTTP_X_IDENTITY_STATUS'] = 'Confirmed'
        return req.get_response(self.app)


class JsonErrors:
    """Every error leaves as JSON {faultcode, faultstring}; 5xx never leak internals.

    ``messages``: the faultstring of a status whose answer is not ours (413 from
    oslo.middleware's size limit says no limit in its text).
    """

    def __init__(self, app, messages=None):
        self.app = app
        self.messages = messages or {}

    @webob.dec.wsgify
    def __call__(self, req):
        try:
            resp = req.get_response(self.app)
        except Exception:
            LOG.exception('unhandled error on %s %s', req.method, req.path)
            return fault(500, 'internal error; see the solum-git API log')
        if resp.status_int < 400:
            return resp
        if resp.status_int >= 500:
            LOG.error('%s %s -> %s: %s', req.method, req.path, resp.status,
                      resp.body[:2000])
            return fault(resp.status_int, 'internal error; see the solum-git API log')
        if resp.content_type == 'application/json' and b'"faultstring"' in resp.body:
            return resp
        message = self.messages.get(resp.status_int, resp.status.split(' ', 1)[-1])
        if resp.status_int == 404:
            message = 'no such resource: %s' % req.path
        elif resp.status_int == 405:
            message = '%s is not allowed on %s' % (req.method, req.path)
        elif resp.status_int == 401:
            message = 'authentication required'
        new = fault(resp.status_int, message)
        for header in ('WWW-Authenticate', 'Allow'):
            if header in resp.headers:
                new.headers[header] = resp.headers[header]
        return new


class PathDispatch:
    """Some paths (the signed git hook) skip the user auth in front of the rest."""

    def __init__(self, authed, unauthed, prefixes, paths=('', '/')):
        self.authed = authed
        self.unauthed = unauthed
        self.prefixes = prefixes
        self.paths = frozenset(paths)

    def __call__(self, environ, start_response):
        path = environ.get('PATH_INFO', '')
        if '//' in path or any(p in ('.', '..') for p in path.split('/')):
            return fault(400, 'path: must not contain empty, "." or ".." segments')(
                environ, start_response)
        # NUL and friends would reach the database (PostgreSQL refuses NUL)
        query = urllib.parse.unquote(environ.get('QUERY_STRING', ''))
        for part, value in (('path', path), ('query', query)):
            if any(ord(c) < 32 or ord(c) == 127 for c in value):
                return fault(400, '%s: must not contain control characters' % part)(
                    environ, start_response)
        if path in self.paths or path.startswith(self.prefixes):
            # nobody is authenticated on these paths: drop identity headers
            for key in ('HTTP_X_USER_ID', 'HTTP_X_PROJECT_ID', 'HTTP_X_ROLES'):
                environ.pop(key, None)
            return self.unauthed(environ, start_response)
        return self.authed(environ, start_response)


class Route:
    """One exact path (GET or HEAD) to an app of its own, the rest to ``app``."""

    def __init__(self, app, path, target):
        self.app = app
        self.path = path
        self.target = target

    def __call__(self, environ, start_response):
        if environ.get('PATH_INFO', '') != self.path:
            return self.app(environ, start_response)
        if environ.get('REQUEST_METHOD') not in ('GET', 'HEAD'):
            answer = fault(405, 'method: %s answers GET and HEAD only' % self.path)
            answer.allow = ('GET', 'HEAD')
            return answer(environ, start_response)
        return self.target(environ, start_response)
