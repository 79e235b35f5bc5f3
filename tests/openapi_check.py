"""Checks of the OpenAPI document against the live API; each returns its problems.

Used by tests/unit/test_openapi.py (routes and types) and
tests/functional/test_openapi_live.py (bodies over HTTP). Independent of how
solum_git/api/openapi builds the document: the routes come from walking the
Pecan controllers as Pecan routes them, the fields from the WSME types.
"""
import dataclasses
import datetime
import inspect
import urllib.parse
from typing import Dict, List, Optional, Tuple

import jsonschema
from pecan import rest
import pecan.util
import referencing
import referencing.jsonschema
from wsme import api as wsme_api
from wsme import types as wtypes

from solum_git.api.controllers.v1 import base as v1_base
from solum_git.api import types

METHODS = ('get', 'put', 'post', 'delete', 'patch')
# RestController methods Pecan routes, and the path arguments each takes after
# the routing arguments of its parents
_REST_METHODS = {'get_all': ('GET', 0), 'get': ('GET', 0), 'get_one': ('GET', 1),
                 'post': ('POST', 0), 'put': ('PUT', 1), 'delete': ('DELETE', 1)}


@dataclasses.dataclass
class Route:
    method: str
    path: str                      # template: /v1/infrastructure/repos/{uuid}
    query: Dict[str, str]          # name -> JSON type
    body: Optional[str] = None     # WSME type name
    body_required: bool = True
    returns: Optional[str] = None  # WSME type name, '[Name]' for a list
    status: Optional[int] = None   # WSME's success status; None: plain Pecan


def _exposed(value):
    return callable(value) and pecan.util.iscontroller(value)


def _args(func):
    """A method's arguments after self (below WSME's wrapper)."""
    plain = inspect.unwrap(getattr(func, '__func__', func))
    return list(inspect.signature(plain).parameters)[1:]


def _json_type(datatype):
    if datatype is int:
        return 'integer'
    if datatype in (wtypes.text, str):
        return 'string'
    raise AssertionError('no JSON type for query datatype %r' % datatype)


def _type_name(datatype):
    if datatype is None:
        return None
    if isinstance(datatype, wtypes.ArrayType):
        return '[%s]' % datatype.item_type.__name__
    return datatype.__name__


def live_routes(controller, segments=('',), routing=0) -> List[Route]:
    """Every (method, path) the controller tree answers, found as Pecan routes.

    ``segments`` holds strings and ints (the n-th routing argument's place);
    ``routing`` is how many path arguments the parents consumed.
    """
    if not isinstance(controller, rest.RestController):
        raise AssertionError('%s: not a RestController; the walker knows only those'
                             % type(controller).__name__)
    if getattr(controller, '_custom_actions', None):
        raise AssertionError('%s: custom actions; the walker does not know them'
                             % type(controller).__name__)
    for hook in ('_lookup', '_default', '_route'):
        known = [getattr(rest.RestController, hook, None)]
        if hook == '_route':
            # joins the last path argument's segments, routes as a RestController
            known.append(v1_base.LastArgumentSpansSlashes._route)
        if getattr(type(controller), hook, None) not in known:
            raise AssertionError('%s.%s: routes the walker cannot follow'
                                 % (type(controller).__name__, hook))
    routes = []
    for name in dir(type(controller)):
        if name.startswith('_') or name in _REST_METHODS:
            continue
        value = getattr(controller, name)
        if isinstance(value, rest.RestController):
            continue
        if _exposed(value) or name in METHODS or name.startswith(('get_', 'post_')):
            raise AssertionError('%s.%s: an exposed method Pecan routes in a way this '
                                 'walker does not know' % (type(controller).__name__,
                                                           name))
    for name, (method, path_args) in sorted(_REST_METHODS.items()):
        func = getattr(controller, name, None)
        if func is None:
            continue
        if not _exposed(func):
            raise AssertionError('%s.%s is not exposed' % (type(controller).__name__, name))
        args = _args(func)
        names = args[:routing + path_args]
        path = _template(segments + tuple(range(routing, routing + path_args)), names)
        routes.append(_route(method, path, func, args[routing + path_args:]))
    # children: after the path arguments of get_one (else get), as Pecan finds them
    lookup = getattr(controller, 'get_one', None) or getattr(controller, 'get', None)
    fixed = len(_args(lookup)) - routing if lookup is not None else 0
    child_segments = segments + tuple(range(routing, routing + fixed))
    for name in sorted(dir(type(controller))):
        child = getattr(controller, name)
        if not name.startswith('_') and isinstance(child, rest.RestController):
            routes.extend(live_routes(child, child_segments + (name,), routing + fixed))
    return routes


def _template(segments, names):
    parts = ['{%s}' % names[s] if isinstance(s, int) else s for s in segments]
    return '/'.join(parts) if len(parts) > 1 else '/'


def _route(method, path, func, rest_args):
    function = inspect.unwrap(func.__func__)
    if not wsme_api.iswsmefunction(function):
        if rest_args:
            raise AssertionError('%s %s: plain Pecan arguments %s' % (method, path,
                                                                      rest_args))
        # a plain handler reads its query string itself and says so in QUERY
        declared = getattr(getattr(func, '__self__', None), 'QUERY', {})
        return Route(method, path, {n: _json_type(t) for n, t in declared.items()})
    funcdef = wsme_api.FunctionDefinition.get(function)
    query, body, body_required = {}, None, True
    by_name = {a.name: a for a in funcdef.arguments}
    for name in rest_args:
        arg = by_name[name]
        if funcdef.body_type is not None and arg.datatype is funcdef.body_type:
            body, body_required = funcdef.body_type.__name__, arg.mandatory
        else:
            query[name] = _json_type(arg.datatype)
    return Route(method, path, query, body, body_required,
                 _type_name(funcdef.return_type), funcdef.status_code)


def _resolve(doc, node):
    while '$ref' in node:
        node = _pointer(doc, node['$ref'])
    return node


def _pointer(doc, ref):
    node = doc
    for part in ref.lstrip('#/').split('/'):
        node = node[part]
    return node


def _body_name(doc, schema):
    """'Repo' for a $ref to it, '[Repo]' for an array of them."""
    if schema.get('type') == 'array':
        return '[%s]' % _body_name(doc, schema['items'])
    if 'allOf' in schema:
        return _body_name(doc, schema['allOf'][0])
    return schema['$ref'].rsplit('/', 1)[-1]


def route_problems(doc: dict, routes: List[Route]) -> List[str]:
    """The document's operations against the live routes, both ways, in detail."""
    problems = []
    live = {(r.method, r.path): r for r in routes}
    documented = {(m.upper(), p): op for p, item in doc['paths'].items()
                  for m, op in item.items() if m in METHODS}
    for key in sorted(set(live) - set(documented)):
        problems.append('%s %s: served but not in the document' % key)
    for key in sorted(set(documented) - set(live)):
        problems.append('%s %s: in the document but not served' % key)
    for key in sorted(set(live) & set(documented)):
        problems.extend('%s %s: %s' % (key + (p,))
                        for p in _operation_problems(doc, live[key], documented[key]))
    return problems


def _operation_problems(doc, route, op):
    problems = []
    params = [_resolve(doc, p) for p in op.get('parameters', [])]
    in_path = {p['name'] for p in params if p['in'] == 'path'}
    wanted = {s[1:-1] for s in route.path.split('/') if s.startswith('{')}
    if in_path != wanted:
        problems.append('path parameters %s, the path has %s'
                        % (sorted(in_path), sorted(wanted)))
    query = {p['name']: p['schema']['type'] for p in params if p['in'] == 'query'}
    if query != route.query:
        problems.append('query parameters %s, the code takes %s' % (query, route.query))
    body = op.get('requestBody')
    body_name = body and _body_name(doc, body['content']['application/json']['schema'])
    if route.status is not None and body_name != route.body:
        problems.append('request body %s, the code takes %s' % (body_name, route.body))
    if body and route.body and body['required'] != route.body_required:
        problems.append('request body required=%s, the code: %s'
                        % (body['required'], route.body_required))
    if route.status is not None:
        success = sorted(int(s) for s in op['responses'] if int(s) < 400)
        if success != [route.status]:
            problems.append('success statuses %s, the code answers %s'
                            % (success, route.status))
            return problems
        answer = op['responses'][str(route.status)]
        content = answer.get('content', {}).get('application/json')
        returns = content and _body_name(doc, content['schema'])
        if returns != route.returns:
            problems.append('answers %s, the code returns %s' % (returns, route.returns))
    return problems


# -- WSME types against the document's schemas -----------------------------------

def _all_types(cls=types.Base):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_types(sub)


def _expected_types(datatype):
    """The JSON Schema types a WSME datatype may take (None: given by hand)."""
    if isinstance(datatype, (wtypes.ArrayType, list)):
        return {'array'}
    if inspect.isclass(datatype) and issubclass(datatype, wtypes.Base):
        return {'$ref'}
    return {int: {'integer'}, wtypes.text: {'string'}, str: {'string'},
            bool: {'boolean'}, datetime.datetime: {'string'}}.get(datatype)


def _schema_types(schema):
    if '$ref' in schema:
        return {'$ref'}
    if 'anyOf' in schema:
        return set().union(*(_schema_types(s) for s in schema['anyOf'])) - {'null'}
    kind = schema.get('type')
    return ({kind} if isinstance(kind, str) else set(kind or ())) - {'null'}


def type_problems(doc: dict) -> List[str]:
    """Every WSME type's attributes against its schema's properties, both ways."""
    problems = []
    found = doc['components']['schemas']
    for cls in _all_types():
        name = cls.__name__
        if name not in found:
            problems.append('%s: a WSME type with no schema' % name)
            continue
        schema = found[name]
        attrs = {a.name: a for a in wtypes.list_attributes(cls)}
        props = schema.get('properties', {})
        for field in sorted(set(attrs) - set(props)):
            problems.append('%s.%s: a field not in the document' % (name, field))
        for field in sorted(set(props) - set(attrs)):
            problems.append('%s.%s: in the document, not a field' % (name, field))
        if schema.get('additionalProperties') is not False:
            problems.append('%s: other properties allowed' % name)
        for field in sorted(set(attrs) & set(props)):
            want = _expected_types(attrs[field].datatype)
            got = _schema_types(props[field])
            if want is not None and want != got:
                problems.append('%s.%s: JSON type %s, WSME type %s'
                                % (name, field, sorted(got), sorted(want)))
            if attrs[field].mandatory and field not in schema.get('required', []):
                problems.append('%s.%s: mandatory but not required' % (name, field))
    return problems


def unused_schemas(doc: dict) -> List[str]:
    """Schemas nothing refers to (a removed route's leftovers)."""
    text = repr([doc['paths'], doc['components']['schemas'],
                 doc['components']['responses']])
    return sorted(n for n in doc['components']['schemas']
                  if "'#/components/schemas/%s'" % n not in text)


# -- bodies over HTTP -----------------------------------------------------------

def _escape(part):
    return part.replace('~', '~0').replace('/', '~1')


class BodyChecker:
    """Validates live bodies against the document (JSON Schema 2020-12, OAS 3.1's)."""

    BASE = 'urn:solum-git:openapi'

    def __init__(self, doc: dict):
        self.doc = doc
        resource = referencing.Resource.from_contents(
            doc, default_specification=referencing.jsonschema.DRAFT202012)
        # the document's own '#/components/...' references resolve inside it
        self.registry = referencing.Registry().with_resource(self.BASE, resource)
        self.seen: List[Tuple[str, str, int]] = []

    def operation(self, method, path):
        return self.doc['paths'][path][method.lower()]

    def check(self, method: str, path: str, response) -> List[str]:
        """``response``: a requests response to ``method`` on the template ``path``."""
        op = self.operation(method, path)
        status = str(response.status_code)
        self.seen.append((method, path, response.status_code))
        if status not in op['responses']:
            return ['%s %s: status %s not documented (%s)'
                    % (method, path, status, sorted(op['responses']))]
        pointer = '/paths/%s/%s/responses/%s' % (_escape(path), method.lower(), status)
        answer = op['responses'][status]
        if '$ref' in answer:
            pointer = answer['$ref'][1:]
            answer = _pointer(self.doc, answer['$ref'])
        content = answer.get('content')
        if not content:
            if response.content:
                return ['%s %s %s: a body where none is documented'
                        % (method, path, status)]
            return []
        media = response.headers.get('Content-Type', '').split(';')[0]
        if media not in content:
            return ['%s %s %s: %s, documented %s' % (method, path, status, media,
                                                     sorted(content))]
        body = response.json() if media == 'application/json' else response.text
        problems = self.validate('%s/content/%s/schema' % (pointer, _escape(media)),
                                 body)
        for header in answer.get('headers', {}):
            if header not in response.headers and header != 'Link':
                problems.append('header %s missing' % header)
        return ['%s %s %s: %s' % (method, path, status, p) for p in problems]

    def validate(self, pointer: str, instance) -> List[str]:
        """``instance`` against the schema at ``pointer`` in the document."""
        validator = jsonschema.Draft202012Validator(
            {'$ref': '%s#%s' % (self.BASE, pointer)}, registry=self.registry,
            format_checker=FORMATS)
        return ['%s at %s' % (e.message, '/'.join(map(str, e.absolute_path)) or '.')
                for e in validator.iter_errors(instance)]

    def query_problems(self, method: str, path: str, query: str) -> List[str]:
        """A query string the API accepted: every parameter documented, valid."""
        params = {}
        for p in self.operation(method, path).get('parameters', []):
            p = _resolve(self.doc, p)
            if p['in'] == 'query':
                params[p['name']] = p['schema']
        problems = []
        for name, value in urllib.parse.parse_qsl(query):
            if name not in params:
                problems.append('query parameter %s not documented' % name)
                continue
            if params[name]['type'] == 'integer':
                value = int(value)
            problems += self.validate_schema(params[name], value)
        return ['%s %s query: %s' % (method, path, p) for p in problems]

    def validate_schema(self, schema: dict, instance) -> List[str]:
        validator = jsonschema.Draft202012Validator(schema, format_checker=FORMATS)
        return [e.message for e in validator.iter_errors(instance)]

    def request_problems(self, method: str, path: str, body) -> List[str]:
        pointer = '/paths/%s/%s/requestBody/content/application~1json/schema' % (
            _escape(path), method.lower())
        return ['%s %s request: %s' % (method, path, p)
                for p in self.validate(pointer, body)]


FORMATS = jsonschema.FormatChecker()


@FORMATS.checks('uri', raises=ValueError)
def _absolute_uri(value):
    """jsonschema checks "uri" only with rfc3987 installed: an absolute URL here."""
    parts = urllib.parse.urlsplit(value)
    return bool(parts.scheme and parts.netloc)
