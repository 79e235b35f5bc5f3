"""WSGI middleware: body size limit, noauth, JSON errors."""
import io
import json
import logging
import urllib.parse

import webob
import webob.dec
import webob.exc

from solum_git.common import validation
from solum_git.common import exception

LOG = logging.getLogger(__name__)


def fault(status, message):
    body = json.dumps({'faultcode': 'Client' if status < 500 else 'Server',
                       'faultstring': message, 'debuginfo': None})
    return webob.Response(body=body.encode(), status=status,
                          content_type='application/json', charset='utf-8')


class _LimitedReader:
    """Stops a chunked body that grows past the limit."""

    def __init__(self, stream, limit):
        self.stream = stream
        self.left = limit + 1

    def read(self, size=-1):
        if size is None or size < 0 or size > self.left:
            size = self.left
        data = self.stream.read(size)
        self.left -= len(data)
        if self.left <= 0:
            raise webob.exc.HTTPRequestEntityTooLarge()
        return data


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
                body = json.loads(raw)
            except ValueError:
                return fault(400, 'body: must be valid JSON')(environ, start_response)
            if not isinstance(body, dict):
                return fault(400, 'body: must be a JSON object')(
                    environ, start_response)
            environ['CONTENT_TYPE'] = 'application/json'
        return self.app(environ, start_response)


class BodySizeLimit:
    def __init__(self, app, limit):
        self.app = app
        self.limit = limit

    def __call__(self, environ, start_response):
        length = environ.get('CONTENT_LENGTH')
        too_large = fault(413, 'body: must be at most %d bytes' % self.limit)
        if length:
            try:
                if int(length) > self.limit:
                    return too_large(environ, start_response)
            except ValueError:
                return fault(400, 'Content-Length: must be an integer')(
                    environ, start_response)
        elif 'chunked' in environ.get('HTTP_TRANSFER_ENCODING', '').lower():
            return fault(411, 'Content-Length: required (chunked bodies are not '
                         'accepted)')(environ, start_response)
        elif 'wsgi.input' in environ:
            environ['wsgi.input'] = _LimitedReader(environ['wsgi.input'], self.limit)
        try:
            return self.app(environ, start_response)
        except webob.exc.HTTPRequestEntityTooLarge:
            return too_large(environ, start_response)


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
    """Every error leaves as JSON {faultcode, faultstring}; 5xx never leak internals."""

    def __init__(self, app):
        self.app = app

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
        message = resp.status.split(' ', 1)[-1]
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

    def __init__(self, authed, unauthed, prefixes):
        self.authed = authed
        self.unauthed = unauthed
        self.prefixes = prefixes

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
        if path in ('', '/') or path.startswith(self.prefixes):
            # nobody is authenticated on these paths: drop identity headers
            for key in ('HTTP_X_USER_ID', 'HTTP_X_PROJECT_ID', 'HTTP_X_ROLES'):
                environ.pop(key, None)
            return self.unauthed(environ, start_response)
        return self.authed(environ, start_response)
