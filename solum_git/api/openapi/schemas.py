"""Schemas of the bodies that are not WSME types: faults, discovery, the hooks."""
from solum_git.api.openapi import fields
from solum_git.services import deploy_config
from solum_git.services import pushes
from solum_git.services import triggers

_STR = {'type': 'string'}
_URI = {'type': 'string', 'format': 'uri'}
_NULL_STR = {'type': ['string', 'null']}


def ref(name: str) -> dict:
    return {'$ref': '#/components/schemas/' + name}


def obj(description: str, properties: dict, required=None) -> dict:
    """A closed object: every property named, none other allowed."""
    return {'type': 'object', 'description': description, 'properties': properties,
            'required': sorted(properties) if required is None else required,
            'additionalProperties': False}


_SOLUM_CONFIG = ('a solum trigger: a workflow on a Solum app, for the pushed commit; '
                 'app_id names the app, or create_app (with languagepack) makes it '
                 'when the trigger is made')


def _command(what):
    return {'type': 'string', 'minLength': 1, 'maxLength': 4096,
            'description': 'shell command run in the sandbox ' + what}


def _variables(what):
    return {'type': 'object', 'description': what + '; names %s, not reserved '
            '(PORT, PATH, HOME, SOLUM_GIT_*...), at most %d' % (
                deploy_config.NAME_RULE.replace('must match ', ''), deploy_config.MAX_VARS),
            'maxProperties': deploy_config.MAX_VARS,
            'propertyNames': {'pattern': deploy_config.NAME.pattern, 'maxLength': 128},
            'additionalProperties': {'type': 'string',
                                     'maxLength': deploy_config.MAX_VALUE}}


_LOCAL_CONFIG = ('a local trigger: commands run on the pushed commit (test_cmd or '
                 'run_cmd, or both)')


def _local_settings():
    return {
        'test_cmd': _command('first; a failure ends the run'),
        'run_cmd': _command('then, as the app on $PORT'),
        'env': _variables('plain environment variables of both commands, shown as '
                          'given'),
        'secrets': _variables('environment variables kept encrypted (Fernet, '
                              '[secrets]); shown as "***", masked as *** in logs'),
        'health_path': dict(_STR, pattern='^/[^\\s]*$', maxLength=1024,
                            description='run_cmd: GET it on the new app until it '
                                        'answers 2xx/3xx before the previous app stops'),
        'health_timeout': {'type': 'number', 'minimum': 1,
                           'maximum': deploy_config.MAX_HEALTH_TIMEOUT,
                           'description': 'seconds the health check may take '
                                          '(default: [pipelines] app_start_timeout)'}}


def hand_written() -> dict:
    return {
        'Fault': obj('every error: the field and the rule it broke, in faultstring', {
            'faultcode': {'type': 'string', 'enum': ['Client', 'Server'],
                          'description': 'Client for 4xx, Server for 5xx'},
            'faultstring': dict(_STR, description='e.g. "name: must not end in .git"'),
            'debuginfo': {'type': 'null', 'description': 'always null'}}),
        'Versions': obj('the API versions', {'versions': {'type': 'array', 'items': obj(
            'one version', {
                'id': {'type': 'string', 'enum': ['v1']},
                'status': {'type': 'string', 'enum': ['CURRENT']},
                'links': {'type': 'array', 'items': obj('a link', {
                    'rel': {'type': 'string', 'enum': ['self']}, 'href': _URI})}})}}),
        'Platform': obj("v1's entry point (Solum's platform resource)", {
            'uri': _URI, 'name': {'type': 'string', 'enum': ['solum-git']},
            'type': {'type': 'string', 'enum': ['platform']},
            'description': _STR, 'infrastructure_uri': _URI}),
        'OpenApiDocument': {'type': 'object', 'description': 'this document',
                            'required': ['openapi', 'info', 'paths']},
        'LocalConfig': obj(_LOCAL_CONFIG, _local_settings(), required=[]),
        'WebhookConfig': obj('a webhook trigger: a GitHub-shaped push event, signed', {
            'url': dict(_URI, maxLength=2048, description='http:// or https:// receiver'),
            'secret': dict(_STR, maxLength=255, description='HMAC-SHA256 key of '
                           'X-Hub-Signature-256; shown as "***" once set')}),
        'SolumConfig': obj(_SOLUM_CONFIG, {
            'app_id': dict(_STR, pattern=fields.IDENT, description='the Solum app'),
            'create_app': {'type': 'boolean', 'description': 'make the Solum app from '
                           'the repo (then app_id is the one made)'},
            'languagepack': dict(_STR, maxLength=100, description='create_app: its '
                                 'Solum language pack'),
            'test_cmd': dict(_command(''), description="create_app: the app's test "
                             'command (workflow_config; Solum runs it)'),
            'run_cmd': dict(_command(''), description="create_app: the app's run "
                            'command (workflow_config; Solum runs it)'),
            'solum_url': dict(_URI, maxLength=2048,
                              description='Solum API (default: [solum] url)'),
            'actions': {'type': 'array', 'minItems': 1, 'items': {
                'type': 'string', 'enum': list(triggers._SOLUM_ACTIONS)}}},
            required=[]),
        'Delivery': obj('one delivery attempt of a run', {
            'attempt': {'type': 'integer', 'minimum': 1},
            'delivery_id': dict(_STR, description='webhook: X-GitHub-Delivery'),
            'url': _URI,
            'at': dict(_STR, description='when it was sent (ISO 8601, UTC offset)'),
            'status_code': {'type': ['integer', 'null'],
                            'description': "the receiver's HTTP status; null if none"},
            'error': dict(_NULL_STR, description='why it could not be sent'),
            'duration_ms': {'type': 'integer', 'minimum': 0},
            'response': dict(_STR, description="the receiver's answer, cut at 500 "
                             'characters'),
            'workflow': dict(_NULL_STR, description='solum: the workflow made'),
            'source': dict(_STR, description="solum: the app's source.repository set "
                           'for this commit (its token masked)')},
            required=['attempt', 'url', 'at', 'status_code', 'error']),
        'PostReceiveEvent': obj("a push, as the git server's post-receive hook saw it", {
            'stack_id': dict(_STR, description='equals X-Solum-Git-Stack'),
            'push_id': dict(_STR, pattern=fields.PUSH_ID, description='recorded once'),
            'repo': dict(_STR, pattern=fields.REPO_NAME),
            'pusher': dict(_STR, pattern=fields.PUSHER, description='gitolite user (u-<id>)'),
            'pushed_at': {'type': 'integer', 'minimum': 946684800,
                          'description': 'Unix time, not in the future'},
            'refs': {'type': 'array', 'minItems': 1, 'maxItems': pushes.MAX_REFS,
                     'items': obj('an updated ref', {
                         'ref': dict(_STR, pattern=fields.REF),
                         'old': dict(_STR, pattern=fields.OBJECT_ID),
                         'new': dict(_STR, pattern=fields.OBJECT_ID)})},
            'truncated': {'type': 'boolean',
                          'description': 'the hook left refs out (too many)'},
            'size_bytes': {'type': 'integer', 'minimum': 0,
                           'description': "the repo's objects after the push (the "
                                          "repo view's size_bytes)"}},
            required=['stack_id', 'push_id', 'repo', 'pusher', 'pushed_at', 'refs']),
        'PostReceiveResult': obj('what the push started (the hook prints it)', {
            'duplicate': {'type': 'boolean',
                          'description': 'this push id was recorded before (200)'},
            'messages': {'type': 'array', 'items': _STR},
            'stream_seconds': {'type': 'integer', 'minimum': 0, 'description':
                               "how long the hook may stream local runs' logs"},
            'push': obj('the push', {'uuid': _STR, 'push_id': _STR, 'uri': _URI}),
            'runs': {'type': 'array', 'items': obj('a run it started', {
                'uuid': _STR,
                'type': {'type': 'string', 'enum': list(triggers.TYPES)},
                'ref': _STR,
                'status': {'type': 'string', 'enum': fields.RUN_STATUSES},
                'uri': _URI, 'log_uri': _URI})}}),
        'RunLogRequest': obj("a part of a run's log, for the hook that pushed", {
            'run': dict(_STR, description="the run's uuid"),
            'offset': {'type': 'integer', 'minimum': 0,
                       'description': 'characters already shown'}}),
        'RunLogChunk': obj('up to 64 KiB of the log from offset on', {
            'status': {'type': 'string', 'enum': fields.RUN_STATUSES},
            'status_reason': _NULL_STR,
            'app_url': _NULL_STR,
            'log': _STR,
            'offset': {'type': 'integer', 'minimum': 0,
                       'description': 'where the next request starts'}}),
    }
