"""Helpers every v1 controller uses: the caller, the services, URLs, errors."""
import urllib.parse

import pecan
from pecan import rest

from solum_git.common import exception
from solum_git.common import urls


def ctx():
    return pecan.request.context


def services():
    return pecan.request.services


def url(*parts):
    environ = pecan.request.environ
    base = environ.get('solum_git.base_url')
    if base is None:  # once per request: webob rebuilds it on every access
        base = (pecan.request.conf.api.public_url
                or pecan.request.application_url).rstrip('/')
        environ['solum_git.base_url'] = base
    return urls.link(base, *parts)


def page_limit(limit):
    conf = pecan.request.conf
    return min(limit or conf.api.default_limit, conf.api.max_limit)


def set_next_link(items, limit, resource_path):
    """OpenStack paging on a plain list: a ``Link: <...>; rel="next"`` header."""
    if not items or len(items) < page_limit(limit):
        return
    params = dict(pecan.request.GET)
    params['marker'] = items[-1]['uuid']
    query = urllib.parse.urlencode(sorted(params.items()))
    pecan.response.headers['Link'] = '<%s?%s>; rel="next"' % (url(resource_path), query)


def require_body(body, field='body'):
    if body is None:
        raise exception.InvalidInput(field, 'a JSON object is required')
    return body


class LastArgumentSpansSlashes(rest.RestController):
    """A RestController whose last path argument may hold "/" (a branch glob).

    Clients URL-encode it; the WSGI server decodes "%2F" before Pecan splits the
    path, so what is left after the parents' arguments is joined back into one.
    Routes are a plain RestController's otherwise (tests/openapi_check.py).
    """

    @pecan.expose()
    def _route(self, args, request=None):
        if len(args) > 1:
            args = ['/'.join(args)]
        return super()._route(args, request)
