"""Every route of the API, one line each: what it does, what it takes and answers.

tests/unit/test_openapi.py compares this table with the live Pecan controllers
(routes, path and query parameters, body and return types, success codes).
"""
import dataclasses
from typing import Dict, Optional, Tuple

USER, NONE, HOOK = 'user', 'none', 'hook'   # who may call: an identity, anyone, a git server
TEXT = 'text/plain'                           # a body that is not JSON
PAGED = ('limit', 'marker', 'sort_key', 'sort_dir')

S = '/v1/infrastructure/stacks'
R = '/v1/infrastructure/repos'
K = '/v1/infrastructure/keys'
RUN = '/v1/infrastructure/runs'
T = '/v1/infrastructure/tokens'
E = '/v1/infrastructure/events'
Q = '/v1/infrastructure/quotas'
PB = R + '/{repo_uuid}/protected_branches'


@dataclasses.dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    # success status -> schema name ('[Name]': a JSON array of them), TEXT or None
    ok: Dict[int, Optional[str]]
    body: Optional[str] = None
    body_optional: bool = False
    # names of components/parameters (the query string)
    query: Tuple[str, ...] = ()
    # fault statuses beyond those every operation of its kind can answer
    faults: Tuple[int, ...] = ()
    auth: str = USER
    # body fields this operation needs although its type has them optional
    required: Tuple[str, ...] = ()
    description: str = ''


Op = Operation
OPERATIONS = (
    Op('GET', '/', 'API versions', {200: 'Versions'}, auth=NONE),
    Op('GET', '/v1', "v1's entry point", {200: 'Platform'}),
    Op('GET', '/v1/openapi.json', 'this document (OpenAPI 3.1)', {200: 'OpenApiDocument'},
       auth=NONE),
    Op('GET', '/v1/infrastructure', 'the infrastructure resource (Solum)',
       {200: 'Infrastructure'}),

    Op('GET', S, "the project's git servers (one per project)", {200: '[Stack]'},
       query=PAGED),
    Op('POST', S, "make the project's git server ahead of its first repo",
       {201: 'Stack'}, body='StackInput', body_optional=True, faults=(409,),
       description='409 if the project has one already.'),
    Op('GET', S + '/{uuid}', 'a git server', {200: 'Stack'}),
    Op('PUT', S + '/{uuid}', 'change its name, description or tags (a GET body '
       'sent back is 200)', {200: 'Stack'},
       body='StackInput'),
    Op('DELETE', S + '/{uuid}', 'delete a git server', {204: None}, faults=(409,),
       description='409 while it has repos (its last repo deletes it anyway).'),
    Op('POST', S + '/{stack_uuid}/actions', 're-apply everything to the server now',
       {202: None}, body='Action', faults=(409,),
       description='action "resync" (drift repair) or "restore" (every repo from its '
                   'latest backup; refs pushed since are kept); 409 while it is being '
                   'deleted.'),

    Op('GET', R, "the project's repos", {200: '[Repo]'}, query=PAGED + ('name',)),
    Op('POST', R, 'create a repo (and the project\'s git server, the first time)',
       {201: 'Repo'}, body='RepoInput', required=('name',), faults=(409, 503),
       description='The creator becomes its RW+ member; status turns ACTIVE once the '
                   'server serves it. 409: the name is taken in the project.'),
    Op('GET', R + '/{uuid}', 'a repo', {200: 'Repo'}),
    Op('PUT', R + '/{uuid}', 'rename it, change its description or default branch '
       '(RW+ only)', {200: 'Repo'}, body='RepoInput', faults=(409,),
       description='A new name renames it on the git server: history, members, '
                   'triggers, pushes and backups follow; the old URL is refused with a '
                   'message naming the new one. 409: the name is taken in the project.'),
    Op('DELETE', R + '/{uuid}', 'delete a repo (RW+ only)', {204: None},
       description="The project's git server goes with its last repo."),

    Op('GET', R + '/{repo_uuid}/members', "who may use the repo", {200: '[Member]'}),
    Op('GET', R + '/{repo_uuid}/members/{user_id}', 'one member', {200: 'Member'}),
    Op('PUT', R + '/{repo_uuid}/members/{user_id}', 'add a member or change its '
       'permission (RW+ only)', {200: 'Member'}, body='MemberInput',
       required=('permission',), faults=(409,),
       description='409: the last RW+ member cannot be downgraded.'),
    Op('DELETE', R + '/{repo_uuid}/members/{user_id}', 'remove a member (RW+ only)',
       {204: None}, faults=(409,), description='409: the last RW+ member stays.'),

    Op('GET', R + '/{repo_uuid}/triggers', "the repo's triggers", {200: '[Trigger]'}),
    Op('POST', R + '/{repo_uuid}/triggers', 'add a trigger (RW+ only)',
       {201: 'Trigger'}, body='TriggerInput', required=('type',)),
    Op('GET', R + '/{repo_uuid}/triggers/{uuid}', 'a trigger', {200: 'Trigger'}),
    Op('PUT', R + '/{repo_uuid}/triggers/{uuid}', "change a local trigger's config "
       '(RW+ only)', {200: 'Trigger'}, body='TriggerInput', required=('config',),
       description='A config key replaces its setting, null removes it; in secrets a '
                   'name given a value sets it, null removes it, names left out keep '
                   'theirs. The serving release is redeployed with the new config, '
                   'untested, as a new run. type and branches cannot change (400).'),
    Op('DELETE', R + '/{repo_uuid}/triggers/{uuid}', 'delete a trigger (RW+ only)',
       {204: None}),

    Op('GET', R + '/{repo_uuid}/pushes', "the repo's pushes", {200: '[Push]'},
       query=('limit', 'marker', 'push_sort_key', 'sort_dir')),
    Op('GET', R + '/{repo_uuid}/pushes/{uuid}', 'a push and its runs', {200: 'Push'}),
    Op('GET', R + '/{repo_uuid}/releases', "the repo's releases (local deploys that "
       'served), newest first per trigger', {200: '[Release]'},
       description='serving: the newest release of its trigger, the app it runs now.'),
    Op('GET', R + '/{repo_uuid}/backups', "the repo's backups, newest first",
       {200: '[Backup]'}, query=PAGED),

    Op('GET', PB, "the repo's protected branch rules", {200: '[ProtectedBranch]'}),
    Op('GET', PB + '/{pattern}', 'one rule (pattern URL-encoded)',
       {200: 'ProtectedBranch'}),
    Op('PUT', PB + '/{pattern}', 'protect the branches a name or glob matches (RW+ '
       'only)', {200: 'ProtectedBranch'}, body='ProtectedBranchInput',
       body_optional=True,
       description='Enforced by the git server on every push, SSH and HTTP: a push '
                   'the rule refuses fails with "protected branch rule PATTERN: why". '
                   'Fields left out take their defaults (RW+, no force-push, no '
                   'delete).'),
    Op('DELETE', PB + '/{pattern}', 'unprotect them (RW+ only)', {204: None}),

    Op('GET', R + '/{repo_uuid}/deploy_tokens', "the repo's deploy tokens (no secrets)",
       {200: '[DeployToken]'}),
    Op('POST', R + '/{repo_uuid}/deploy_tokens', 'make a deploy token (RW+ only)',
       {201: 'DeployToken'}, body='DeployTokenInput', required=('name',),
       description='The answer alone carries its token and clone_url.'),
    Op('DELETE', R + '/{repo_uuid}/deploy_tokens/{uuid}', 'revoke a deploy token '
       '(RW+ only)', {204: None},
       description='The git server refuses it after the next engine pass.'),
    Op('GET', R + '/{repo_uuid}/deploy_keys', "the repo's deploy keys",
       {200: '[DeployKey]'}),
    Op('POST', R + '/{repo_uuid}/deploy_keys', 'add a deploy key (RW+ only)',
       {201: 'DeployKey'}, body='DeployKeyInput', required=('public_key',),
       faults=(409,), description='409: the key is registered already (as a user\'s '
                                  'key or a deploy key).'),
    Op('DELETE', R + '/{repo_uuid}/deploy_keys/{uuid}', 'remove a deploy key (RW+ only)',
       {204: None}),

    Op('GET', T, "the caller's personal access tokens (no secrets)", {200: '[Token]'},
       query=PAGED),
    Op('POST', T, 'make a personal access token', {201: 'Token'}, body='TokenInput',
       required=('name',), description='The answer alone carries its token.'),
    Op('DELETE', T + '/{uuid}', 'revoke a personal access token', {204: None}),

    Op('GET', E, 'the audit trail, newest first: the project\'s (the admin role: all)',
       {200: '[Event]'}, query=('limit', 'marker', 'event_sort_key', 'sort_dir',
                                'resource_uuid', 'action', 'outcome', 'since'),
       description='One event per change of access or content (API changes and '
                   'pushes), written with the change; refused access changes as '
                   'outcome "denied". Events of deleted resources are kept.'),
    Op('GET', Q + '/{project_id}', "a project's quotas and usage (its users, admins)",
       {200: 'Quota'}),
    Op('PUT', Q + '/{project_id}', "set a project's quotas (admins only)", {200: 'Quota'},
       body='QuotaInput',
       description='A create past a counted quota is a 403 naming the quota and its '
                   'limit; repo_size_mb is enforced by the git server at push time.'),

    Op('GET', K, "the caller's SSH keys", {200: '[Key]'}, query=PAGED),
    Op('POST', K, 'register an SSH public key', {201: 'Key'}, body='KeyInput',
       required=('public_key',), faults=(409,),
       description='ed25519, ECDSA or RSA of 2048 bits or more; 409 if registered.'),
    Op('GET', K + '/{uuid}', 'a key', {200: 'Key'}),
    Op('DELETE', K + '/{uuid}', 'delete a key', {204: None}),

    Op('GET', RUN + '/{uuid}', 'a pipeline run', {200: 'Run'}),
    Op('GET', RUN + '/{run_uuid}/log', "the run's log so far", {200: TEXT, 204: None},
       description='204 while it is empty; X-Run-Status tells whether to keep tailing.'),
    Op('POST', RUN + '/{run_uuid}/actions', 'run it again, or roll back to it (RW+ only)',
       {202: 'Run'}, body='Action', faults=(409,),
       description='action "redeliver": a new delivery with the same id; 409 while it '
                   'is queued or running, or once its trigger is deleted. Action '
                   '"rollback" (a release: a local run that deployed): a new run that '
                   'serves its kept build again, untested; 409 for a run that is not '
                   'a release.'),
    Op('GET', RUN + '/{run_uuid}/app-log', "what the run's app printed (local runs that "
       'deployed; secrets masked)', {200: TEXT}, query=('tail', 'follow'),
       faults=(429,),
       description='?tail=N: the last N lines; ?follow=1 streams what it prints next '
                   'for at most [api] app_log_follow_seconds; 429 when [api] '
                   'app_log_followers are already following; 404 once the run\'s '
                   'work dir is pruned ([pipelines] keep_runs).'),

    Op('POST', '/v1/hooks/post-receive', 'a push (from the git server)',
       {201: 'PostReceiveResult', 200: 'PostReceiveResult'}, body='PostReceiveEvent',
       auth=HOOK, faults=(403, 404, 503),
       description='Recorded once per push_id: a retried callback answers 200 with '
                   'duplicate true and starts nothing. 403: a replayed nonce.'),
    Op('POST', '/v1/hooks/run-log', "a run's log (for the hook that pushed)",
       {200: 'RunLogChunk'}, body='RunLogRequest', auth=HOOK, faults=(404,)),
)
