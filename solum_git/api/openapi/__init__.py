"""The OpenAPI 3.1 description of the REST API, served at GET /v1/openapi.json.

Schemas come from the WSME types (api/types.py) with the words and rules of
openapi/fields.py; the routes are the table of openapi/paths.py. Built once per
process and settings (first request), never at import.
"""
import datetime
import functools
import inspect
import json
import re
from typing import NamedTuple

from oslo_middleware import request_id
import pbr.version
from wsme import types as wtypes

from solum_git.api.openapi import fields
from solum_git.api.openapi import paths
from solum_git.api.openapi import schemas
from solum_git.api import types
from solum_git.common import events
from solum_git.services import base as service_base
from solum_git.services import events as event_service
from solum_git.services import pushes as push_service

OPENAPI = '3.1.0'
# WSME writes naive UTC datetimes with isoformat(): microseconds only when non-zero
DATETIME = r'^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?$'

FAULTS = {
    400: ('BadRequest', 'bad input: the field and the rule it broke (malformed JSON, '
                        'a body that is not an object, a wrong type, an unknown field '
                        'or query parameter, a broken rule)'),
    401: ('Unauthorized', 'no identity, or (hooks) no good signature'),
    403: ('Forbidden', 'seen but not allowed (policy; RW+ only; a replayed hook '
                       'request)'),
    404: ('NotFound', "unknown, or another project's (never 403 for those)"),
    409: ('Conflict', 'conflicts with what exists (see the operation)'),
    411: ('LengthRequired', 'a chunked body: send Content-Length'),
    413: ('TooLarge', 'a body over [oslo_middleware] max_request_body_size'),
    429: ('TooMany', 'a bounded stream is in use by as many as it may be: retry later'),
    503: ('Unavailable', 'busy: retry in a few seconds'),
}
RESOURCE_TAGS = ('stacks', 'repos', 'keys', 'runs', 'hooks', 'events')


class Settings(NamedTuple):
    """What of the configuration the document shows (its cache key)."""
    server_url: str
    auth_strategy: str
    default_limit: int
    max_limit: int
    max_request_body_size: int


def settings_from(conf) -> Settings:
    api = conf.api
    return Settings(api.public_url or '/', api.auth_strategy, api.default_limit,
                    api.max_limit, conf.oslo_middleware.max_request_body_size)


@functools.lru_cache(maxsize=8)
def encoded(settings: Settings) -> bytes:
    """The document as served: JSON bytes, made once per settings."""
    return json.dumps(document(settings)).encode()


def document(settings: Settings) -> dict:
    return {
        'openapi': OPENAPI,
        'info': {
            'title': 'solum-git',
            'version': pbr.version.VersionInfo('solum-git').release_string(),
            'summary': 'Git as a Service for OpenStack Solum',
            'description': _INFO % settings._asdict(),
            'license': {'name': 'Apache-2.0', 'identifier': 'Apache-2.0'},
        },
        'servers': [{'url': settings.server_url}],
        'security': _user_security(settings.auth_strategy),
        'tags': [{'name': t} for t in ('discovery',) + RESOURCE_TAGS],
        'paths': _paths(),
        'components': {
            'schemas': dict(sorted({**schemas.hand_written(), **wsme_schemas()}.items())),
            'parameters': _parameters(settings),
            'headers': _HEADERS,
            'responses': {name: _fault_response(text)
                          for name, text in FAULTS.values()},
            'securitySchemes': _security_schemes(settings.auth_strategy),
        },
    }


_INFO = '''JSON in and out. Lists are JSON arrays, newest first, paged with limit
(default %(default_limit)d, capped at %(max_limit)d), marker, sort_key and sort_dir; a
full page carries a Link rel="next" header. Every error is a Fault whose
faultstring names the field and the rule; 5xx faults say only "internal error".
Bodies are at most %(max_request_body_size)d bytes. Identity: auth_strategy
%(auth_strategy)s. Outside this document: GET/HEAD /healthcheck, oslo.middleware's
health check for load balancers (no identity; 200 "database: OK" or 503).
docs/api.rst tells the rest.'''


# -- schemas from the WSME types ------------------------------------------------

def wsme_schemas() -> dict:
    found = {}
    for cls in types._all_types(types.Base):
        found[cls.__name__] = type_schema(cls)
    return found


def _facts(cls):
    if cls in fields.FIELDS:
        return fields.FIELDS[cls]
    if cls in fields.INPUT_OF:
        return fields.FIELDS[fields.INPUT_OF[cls]]
    raise ValueError('%s: no entry in solum_git/api/openapi/fields.py FIELDS'
                     % cls.__name__)


def type_schema(cls) -> dict:
    """One WSME type as a closed JSON Schema object."""
    facts = _facts(cls)
    attrs = wtypes.list_attributes(cls)
    names = {a.name for a in attrs}
    missing = sorted(names - set(facts))
    stale = sorted(set(facts) - names) if cls in fields.FIELDS else []
    if missing or stale:
        raise ValueError('%s: fields.py FIELDS lacks %s, has no-longer-fields %s'
                         % (cls.__name__, missing, stale))
    if cls not in fields.DESCRIPTIONS:
        raise ValueError('%s: no entry in fields.py DESCRIPTIONS' % cls.__name__)
    is_input = cls in fields.INPUT_OF
    writable = {a.name for t, r in fields.INPUT_OF.items() if r is cls
                for a in wtypes.list_attributes(t)}
    properties = {}
    for attr in attrs:
        schema = _property(cls, attr, facts[attr.name])
        if not is_input and attr.name not in writable:
            schema['readOnly'] = True
        properties[attr.name] = schema
    required = sorted(a.name for a in attrs if a.mandatory or not is_input)
    out = {'type': 'object', 'description': fields.DESCRIPTIONS[cls],
           'properties': properties, 'additionalProperties': False}
    if required:
        out['required'] = required
    return out


def _property(cls, attr, fact):
    if fact.schema is not None:
        if attr.datatype is not types.json_type:
            raise ValueError('%s.%s: a schema is only for JSON fields; its type comes '
                             'from types.py' % (cls.__name__, attr.name))
        schema = json.loads(json.dumps(fact.schema))
    else:
        schema = datatype_schema(attr.datatype, '%s.%s' % (cls.__name__, attr.name))
    for key, value in (fact.rules or {}).items():
        if key == 'items':
            schema['items'] = {**schema['items'], **value}
        else:
            schema[key] = value
    if fact.nullable:
        schema = _nullable(schema)
    schema['description'] = fact.description
    return schema


def datatype_schema(datatype, where: str) -> dict:
    """JSON Schema of a WSME datatype."""
    if isinstance(datatype, wtypes.ArrayType):
        return {'type': 'array', 'items': datatype_schema(datatype.item_type, where)}
    if isinstance(datatype, list):
        return {'type': 'array', 'items': datatype_schema(datatype[0], where)}
    if inspect.isclass(datatype) and issubclass(datatype, wtypes.Base):
        return schemas.ref(datatype.__name__)
    if datatype in (wtypes.text, str):
        return {'type': 'string'}
    if datatype is bool:
        return {'type': 'boolean'}
    if datatype is int:
        return {'type': 'integer'}
    if datatype is datetime.datetime:
        return {'type': 'string', 'pattern': DATETIME}
    raise ValueError('%s: no JSON Schema for %r; give one in fields.py' % (where, datatype))


def _nullable(schema):
    if isinstance(schema.get('type'), str):
        return dict(schema, type=[schema['type'], 'null'])
    return {'anyOf': [schema, {'type': 'null'}]}


# -- paths ----------------------------------------------------------------------

def _paths():
    out = {}
    for op in paths.OPERATIONS:
        out.setdefault(op.path, {})[op.method.lower()] = _operation(op)
    return out


def _operation(op):
    out = {'operationId': _operation_id(op), 'summary': op.summary,
           'tags': [_tag(op.path)]}
    if op.description:
        out['description'] = op.description
    params = [{'$ref': '#/components/parameters/' + q} for q in op.query]
    params[:0] = [_path_parameter(name) for name in _path_names(op.path)]
    if params:
        out['parameters'] = params
    if op.body:
        body = schemas.ref(op.body)
        if op.required:
            body = {'allOf': [body, {'required': list(op.required)}]}
        out['requestBody'] = {'required': not op.body_optional,
                              'content': {'application/json': {'schema': body}}}
    if op.auth == paths.NONE:
        out['security'] = []
    elif op.auth == paths.HOOK:
        out['security'] = [{name: [] for name in _HOOK_SCHEMES}]
    responses = {str(status): _success(op, status, shape)
                 for status, shape in sorted(op.ok.items())}
    for status in _fault_statuses(op):
        responses[str(status)] = {'$ref': '#/components/responses/' + FAULTS[status][0]}
    out['responses'] = dict(sorted(responses.items()))
    return out


def _fault_statuses(op):
    statuses = {400} | set(op.faults)
    if op.auth != paths.NONE:
        statuses.add(401)
    if op.auth == paths.USER:
        statuses.add(403)
        if _path_names(op.path):
            statuses.add(404)
    if op.body:
        statuses |= {411, 413}
    return sorted(statuses)


def _success(op, status, shape):
    out = {'description': _SUCCESS.get(status, 'done')}
    headers = dict(_EVERY_ANSWER)
    if status == 201 and op.auth == paths.USER:
        headers['Location'] = {'$ref': '#/components/headers/Location'}
    if 'limit' in op.query:
        headers['Link'] = {'$ref': '#/components/headers/Link'}
    if paths.TEXT in op.ok.values():  # the run log, empty (204) or not
        headers['X-Run-Status'] = {'$ref': '#/components/headers/X-Run-Status'}
    if shape == paths.TEXT:
        out['content'] = {paths.TEXT: {'schema': {'type': 'string'}}}
    elif shape is not None:
        if shape.startswith('['):
            schema = {'type': 'array', 'items': schemas.ref(shape[1:-1])}
        else:
            schema = schemas.ref(shape)
        out['content'] = {'application/json': {'schema': schema}}
    if headers:
        out['headers'] = headers
    return out


_SUCCESS = {200: 'OK', 201: 'created', 202: 'accepted: the engine does it shortly',
            204: 'done; no body'}


def _path_names(path):
    return [p[1:-1] for p in path.split('/') if p.startswith('{')]


def _path_parameter(name):
    schema = {'type': 'string'}
    if name == 'user_id':
        schema['pattern'] = fields.IDENT
    what = {'uuid': 'its uuid (the last part of its uri)',
            'user_id': "the member's user id"}.get(
                name, "the %s's uuid" % name.split('_')[0])
    return {'name': name, 'in': 'path', 'required': True, 'description': what,
            'schema': schema}


def _operation_id(op):
    rest = op.path
    for prefix in ('/v1/infrastructure/', '/v1/'):
        if rest.startswith(prefix):
            rest = rest[len(prefix):]
            break
    words = [w for w in re.split('[^A-Za-z0-9]+', rest) if w] or ['versions']
    return '_'.join([op.method.lower()] + words)


def _tag(path):
    words = [w for w in path.split('/') if w and w not in ('v1', 'infrastructure')]
    return words[0] if words and words[0] in RESOURCE_TAGS else 'discovery'


def _parameters(settings):
    return {
        'limit': {'name': 'limit', 'in': 'query', 'description':
                  'page size, capped at %d' % settings.max_limit,
                  'schema': {'type': 'integer', 'minimum': 1,
                             'default': settings.default_limit}},
        'marker': {'name': 'marker', 'in': 'query', 'description':
                   'the uuid of the last item of the previous page (400 if unknown)',
                   'schema': {'type': 'string'}},
        'sort_key': {'name': 'sort_key', 'in': 'query', 'schema': {
            'type': 'string', 'enum': list(service_base.Service.sort_keys),
            'default': 'created_at'}},
        'push_sort_key': {'name': 'sort_key', 'in': 'query', 'schema': {
            'type': 'string', 'enum': list(push_service.PushService.sort_keys),
            'default': 'created_at'}},
        'event_sort_key': {'name': 'sort_key', 'in': 'query', 'schema': {
            'type': 'string', 'enum': list(event_service.EventService.sort_keys),
            'default': 'at'}},
        'resource_uuid': {'name': 'resource_uuid', 'in': 'query', 'description':
                          'only the events of this resource (a repo: also its '
                          'members, triggers, credentials and pushes)',
                          'schema': {'type': 'string', 'maxLength': 36}},
        'action': {'name': 'action', 'in': 'query', 'description': 'only this action',
                   'schema': {'type': 'string', 'enum': list(events.ACTIONS)}},
        'outcome': {'name': 'outcome', 'in': 'query', 'description': 'only this outcome',
                    'schema': {'type': 'string', 'enum': list(events.OUTCOMES)}},
        'since': {'name': 'since', 'in': 'query', 'description': 'only events at or '
                  'after this time (RFC 3339; one without an offset is read as UTC)',
                  'schema': {'type': 'string', 'format': 'date-time'}},
        'sort_dir': {'name': 'sort_dir', 'in': 'query', 'schema': {
            'type': 'string', 'enum': list(service_base.SORT_DIRS), 'default': 'desc'}},
        'name': {'name': 'name', 'in': 'query', 'description': 'only the repo of '
                 'this name (a list of one or none)',
                 'schema': {'type': 'string', 'maxLength': 100}},
        'tail': {'name': 'tail', 'in': 'query', 'description': 'only the last lines',
                 'schema': {'type': 'integer', 'minimum': 0, 'maximum': 10000}},
        'follow': {'name': 'follow', 'in': 'query', 'description': '1: stream what is '
                   'printed next (bounded in time)',
                   'schema': {'type': 'string', 'enum': ['0', '1']}},
    }


_HEADERS = {
    'X-OpenStack-Request-Id': {'description': "this request's own id (also in the API's "
                               'log lines)', 'schema': {'type': 'string', 'pattern':
                                                        request_id.ID_FORMAT}},
    'Location': {'description': 'the new resource', 'schema': {'type': 'string',
                                                               'format': 'uri'}},
    'Link': {'description': 'a full page: <next page URL>; rel="next"',
             'schema': {'type': 'string'}},
    'X-Run-Status': {'description': "the run's status: keep tailing while QUEUED or "
                     'RUNNING', 'schema': {'type': 'string',
                                           'enum': fields.RUN_STATUSES}},
}


_EVERY_ANSWER = {'X-OpenStack-Request-Id': {
    '$ref': '#/components/headers/X-OpenStack-Request-Id'}}


def _fault_response(text):
    return {'description': text, 'headers': dict(_EVERY_ANSWER),
            'content': {'application/json': {'schema': schemas.ref('Fault')}}}


# -- security -------------------------------------------------------------------

def _header_scheme(header, description):
    return {'type': 'apiKey', 'in': 'header', 'name': header, 'description': description}


_NOAUTH_SCHEMES = {
    'ProjectId': _header_scheme('X-Project-Id', 'auth_strategy = noauth: the project'),
    'UserId': _header_scheme('X-User-Id', 'auth_strategy = noauth: the user'),
    'Roles': _header_scheme('X-Roles', 'auth_strategy = noauth: comma-separated roles '
                            '(admin sees every project)'),
}
_KEYSTONE_SCHEMES = {
    'KeystoneToken': _header_scheme('X-Auth-Token', 'auth_strategy = keystone: a '
                                    'Keystone token (keystonemiddleware auth_token)'),
}
_HOOK_SCHEMES = {
    'HookStack': _header_scheme('X-Solum-Git-Stack', "the git server's stack uuid"),
    'HookTimestamp': _header_scheme('X-Solum-Git-Timestamp', 'Unix time of signing '
                                    '([hook] max_skew)'),
    'HookNonce': _header_scheme('X-Solum-Git-Nonce', 'once per request (a replay is '
                                '403)'),
    'HookSignature': _header_scheme('X-Solum-Git-Signature', "v1=HMAC-SHA256 of the "
                                    "exact body with the stack's own secret"),
}


def _user_security(auth_strategy):
    if auth_strategy == 'keystone':
        return [{'KeystoneToken': []}]
    return [{'ProjectId': [], 'UserId': []},
            {'ProjectId': [], 'UserId': [], 'Roles': []}]


def _security_schemes(auth_strategy):
    users = _KEYSTONE_SCHEMES if auth_strategy == 'keystone' else _NOAUTH_SCHEMES
    return {**users, **_HOOK_SCHEMES}
