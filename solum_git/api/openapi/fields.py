"""What the WSME types cannot say about their fields: meaning, rules, nullability.

The types in solum_git/api/types.py stay the source of the field names and JSON
types; every attribute needs exactly one entry here (the build refuses a missing
or a stale one). A response type's field is read-only unless its input type has it.
"""
import dataclasses
from typing import Any, Optional

from solum_git.api import types
from solum_git.common import access
from solum_git.common import events
from solum_git.common import sshkey
from solum_git.common import states
from solum_git.common import validation
from solum_git.server import policy
from solum_git.services import pushes as push_service
from solum_git.services import triggers as trigger_service

# the rules' own regexes (one definition); private names, so a rename fails the build
REPO_NAME = validation.REPO_NAME_PATTERN
IDENT = validation.IDENT_PATTERN
BRANCH = validation.BRANCH_PATTERN
BRANCH_GLOB = validation.BRANCH_GLOB_PATTERN
PUSH_ID = push_service._PUSH_ID.pattern
OBJECT_ID = push_service._OBJECT_ID.pattern
PUSHER = push_service._PUSHER.pattern
REF = push_service._REF.pattern

STACK_STATUSES = [s.value for s in states.STACK_STATUSES]
REPO_STATUSES = [s.value for s in states.REPO_STATUSES]
RUN_STATUSES = [s.value for s in states.RUN_STATUSES]


@dataclasses.dataclass(frozen=True)
class Field:
    description: str
    nullable: bool = False
    # JSON Schema keywords added to the one derived from the WSME datatype
    rules: Optional[dict] = None
    # the whole schema, for fields WSME types only as "any JSON"
    schema: Optional[dict] = None


def F(description: str, nullable: bool = False, schema: Optional[dict] = None,
      **rules: Any) -> Field:
    return Field(description, nullable, {_camel(k): v for k, v in rules.items()} or None,
                 schema)


def _camel(name):
    head, *rest = name.split('_')
    return head + ''.join(p.title() for p in rest)


_URI = F('this resource', format='uri')
_CREATED = F('when it was created (UTC)')
_UPDATED = F('when it last changed (UTC); null if never', nullable=True)
_REASON = F('why it has that status, in words; null if nothing to say', nullable=True)
_PROJECT = F('the project (tenant) it belongs to')
_CREATOR = F('the user who created it')

DESCRIPTIONS = {
    types.Infrastructure: "Solum's infrastructure resource: where everything is",
    types.Stack: "one project's git server (Solum's InfrastructureStack)",
    types.StackInput: ('a stack as GET shows it (Solum\'s InfrastructureStack): name, '
                       'description, tags and, when it is made, image_id change it; '
                       'status fields are ignored; any other field must be sent '
                       'unchanged or left out (400 naming it)'),
    types.Action: 'an action to start',
    types.Repo: 'a git repository',
    types.RepoInput: 'what a client may set on a repo',
    types.Key: "one of the caller's SSH public keys",
    types.KeyInput: 'an SSH public key to register',
    types.Member: "a user's permission on a repo",
    types.MemberInput: "a user's permission to set",
    types.Trigger: 'which pushed branches start which pipeline',
    types.TriggerInput: 'a trigger to add',
    types.PushRef: 'one ref a push updated',
    types.Run: 'one pipeline run for one pushed branch',
    types.Push: 'one push received from the git server',
    types.Release: 'a local deploy that served: its run, commit and config version',
    types.DeployToken: "a token for git over HTTP to one repo",
    types.DeployTokenInput: 'a deploy token to make',
    types.Token: "one of the caller's personal access tokens (git over HTTP)",
    types.TokenInput: 'a personal access token to make',
    types.DeployKey: 'an SSH key with access to one repo',
    types.DeployKeyInput: 'a deploy key to add',
    types.Backup: "one link of a repo's backup chain: a full bundle or an increment",
    types.Event: 'one change of access or content, or a refused attempt at one (the '
                 'audit trail)',
    types.ProtectedBranch: ('a protected branch rule: the git server refuses, naming '
                            'the rule, the pushes it does not allow'),
    types.ProtectedBranchInput: 'a protected branch rule to set (replaced whole)',
    types.Quota: "a project's limits (-1: none) and what it uses",
    types.QuotaInput: ("limits to set (admins): one left out keeps its value, null "
                       "goes back to [quota]'s default"),
}

# an input type's fields read like its response type's
INPUT_OF = {types.StackInput: types.Stack, types.RepoInput: types.Repo,
            types.KeyInput: types.Key, types.MemberInput: types.Member,
            types.TriggerInput: types.Trigger, types.Action: None,
            types.DeployTokenInput: types.DeployToken, types.TokenInput: types.Token,
            types.DeployKeyInput: types.DeployKey,
            types.ProtectedBranchInput: types.ProtectedBranch,
            types.QuotaInput: types.Quota}

_SECRET = F('the secret, shown only in the answer that makes it (stored hashed); '
            'the HTTP password', nullable=True)
_EXPIRES = F('when it stops working (UTC, in the future); null: never', nullable=True)
_LIMIT = 'at most this many (-1: no limit; a PUT may send null for the default)'
_DEPLOY_PERMISSION = F('R: clone and fetch (default); RW: also push', enum=['R', 'RW'])

FIELDS = {
    types.Infrastructure: {
        'uri': _URI,
        'name': F('always "solum-git"'),
        'type': F('always "infrastructure" (as in Solum)', enum=['infrastructure']),
        'description': F('what this service offers, in words'),
        'stacks_uri': F("the project's git servers", format='uri'),
        'repos_uri': F("the project's repositories", format='uri'),
        'keys_uri': F("the caller's SSH keys", format='uri'),
        'runs_uri': F('pipeline runs, one by one', format='uri'),
    },
    types.Stack: {
        'uuid': F('its id'),
        'uri': _URI,
        'name': F('a label of at most 255 characters', max_length=255),
        'type': F('always "infrastructure_stack" (Solum\'s InfrastructureStack)',
                  enum=['infrastructure_stack']),
        'description': F('free text, at most 255 characters', nullable=True,
                         max_length=255),
        'tags': F('at most 50 labels of 1-64 characters', max_items=50,
                  items={'minLength': 1, 'maxLength': 64}),
        'project_id': _PROJECT,
        'user_id': _CREATOR,
        'image_id': F('the Glance image of its VM (heat provisioner); else null',
                      nullable=True),
        'heat_stack_id': F('its Heat stack (heat provisioner); else null', nullable=True),
        'kind': F('always "git"', enum=['git']),
        'provisioner': F('the driver that runs it (stevedore name: local, heat)'),
        'status': F('BUILDING until the server serves, DELETING once deleted',
                    enum=STACK_STATUSES),
        'status_reason': _REASON,
        'ssh_host': F('where git clients connect; null until known', nullable=True),
        'ssh_port': F('its SSH port; null until known', nullable=True,
                      minimum=1, maximum=65535),
        'ssh_user': F('the SSH user of every git URL; null until known', nullable=True),
        'ssh_host_keys': F("the server's host keys as known_hosts lines"),
        'http_url': F("where the server's smart HTTP(S) answers; null until known",
                      nullable=True),
        'http_ca_cert': F("PEM CA certificate of the server's HTTPS (Heat stacks); "
                          'null if none', nullable=True),
        'repos_uri': F("the project's repositories", format='uri'),
        'created_at': _CREATED,
        'updated_at': _UPDATED,
    },
    types.Action: {
        'action': F('what to do: "resync" or "restore" (every repo from its latest '
                    'backup) on a stack, "redeliver" on a run',
                    enum=['resync', 'restore', 'redeliver']),
    },
    types.Repo: {
        'uuid': F('its id'),
        'uri': _URI,
        'name': F('unique in the project; 1-100 characters of A-Za-z0-9._- starting '
                  'with a letter or digit, no "..", not ending in ".git", not '
                  'gitolite-admin nor a gitolite keyword (%s); a new name in PUT '
                  'renames it (the old URL is then refused naming the new one)'
                  % ', '.join(sorted(validation.RESERVED_REPO_NAMES)),
                  pattern=REPO_NAME, max_length=100),
        'description': F('free text, at most 255 characters', nullable=True,
                         max_length=255),
        'git_url': F('ssh:// URL to clone and push; null until the server has an '
                     'address', nullable=True),
        'http_url': F('http(s):// URL to clone and push with a token (none in it); '
                      'null until the server has an address', nullable=True),
        'stack_uri': F('the git server that serves it', format='uri'),
        'status': F('BUILDING until the server serves it, then ACTIVE (ERROR: see '
                    'status_reason)', enum=REPO_STATUSES),
        'status_reason': _REASON,
        'default_branch': F('the branch a trigger without branches follows (default '
                            '"main"): a branch name, no glob characters',
                            pattern=BRANCH, max_length=255),
        'project_id': _PROJECT,
        'user_id': _CREATOR,
        'members_uri': F('who may read, push, force-push', format='uri'),
        'triggers_uri': F('which pushes start which pipelines', format='uri'),
        'pushes_uri': F('the pushes received', format='uri'),
        'deploy_tokens_uri': F('its deploy tokens (git over HTTP)', format='uri'),
        'deploy_keys_uri': F('its deploy keys (git over SSH)', format='uri'),
        'backups_uri': F('its backups', format='uri'),
        'backed_up_at': F('when the engine last saw the server hold exactly what its '
                          'latest backup holds (UTC); null if never', nullable=True),
        'backup_lag_seconds': F('how long its newest push has waited for a backup: 0 '
                                'when covered; null with no push and no backup',
                                nullable=True, minimum=0),
        'size_bytes': F("what its objects take on the git server after its newest "
                        'push (the server measures it); null before any push',
                        nullable=True, minimum=0),
        'protected_branches_uri': F('its protected branch rules', format='uri'),
        'restore_from': F('set on create only: the uuid of a deleted repo of the '
                          'project whose backups it starts from (undo of a delete, '
                          'within [backup] keep_deleted_days); else null',
                          nullable=True),
        'created_at': _CREATED,
        'updated_at': _UPDATED,
    },
    types.Event: {
        'uuid': F('its id'),
        'at': F('when it happened (UTC)'),
        'project_id': F('the project of the resource (seen by that project and admins)'),
        'user_id': F('who acted: the caller, or the pusher of a push'),
        'action': F('what was done', enum=list(events.ACTIONS)),
        'outcome': F('"success", or "denied": an access change refused to a caller '
                     'without the right (nothing changed)', enum=list(events.OUTCOMES)),
        'resource_type': F('what it is about (what belongs to a repo: the repo)',
                           enum=list(events.RESOURCE_TYPES)),
        'resource_uuid': F('its id (kept after the resource is deleted)'),
        'detail': F('what changed: names, permissions, uuids of what belongs to the '
                    'repo (never a secret)', schema={'type': 'object'}),
    },
    types.Backup: {
        'uuid': F('its id'),
        'repo_uuid': F('the repo (kept after a delete)'),
        'created_at': F('when its refs were read from the server (UTC)'),
        'kind': F('"full" (a chain starts) or "incremental" (what is new since the '
                  'previous link)', enum=['full', 'incremental']),
        'chain': F('the uuid of its chain\'s full backup'),
        'seq': F('its place in the chain (0: the full one)', minimum=0),
        'refs': F('every ref of the repo at that moment: the refs file', schema={
            'type': 'object', 'additionalProperties': {'type': 'string',
                                                       'pattern': OBJECT_ID}}),
        'head': F('the ref HEAD named', nullable=True),
        'size_bytes': F('the bundle\'s size; 0 when nothing new was pushed (the refs '
                        'are the backup)', minimum=0),
        'verified': F('git bundle verify passed and its sha256 matched; false once a '
                      'restore found it corrupt'),
        'broken_reason': F('why it cannot be used; null if it can', nullable=True),
    },
    types.Key: {
        'uuid': F('its id'),
        'uri': _URI,
        'name': F("a label of at most 255 characters (default: the key's comment, "
                  'else its type)', max_length=255),
        'type': F('the OpenSSH key type; RSA keys have at least %d bits'
                  % sshkey.MIN_RSA_BITS, enum=list(sshkey.ALLOWED_TYPES)),
        'fingerprint': F('as ssh-keygen -lf prints it', pattern='^SHA256:[A-Za-z0-9+/]+$'),
        'public_key': F('one OpenSSH public key line, no options prefix, no private '
                        'key; unique (409 if registered already)'),
        'user_id': F('its owner: only they see it'),
        'project_id': F('the project it was registered in'),
        'created_at': _CREATED,
    },
    types.Member: {
        'uri': _URI,
        'repo_uuid': F('the repo'),
        'user_id': F('the member', pattern=IDENT),
        'permission': F("R: clone and fetch; RW: also push; RW+: also force-push and "
                        "delete branches (gitolite's meanings); a repo keeps one RW+",
                        enum=[p.value for p in access.PERMISSIONS]),
        'created_at': _CREATED,
        'updated_at': _UPDATED,
    },
    types.Trigger: {
        'uuid': F('its id'),
        'uri': _URI,
        'repo_uuid': F('the repo'),
        'type': F('the pipeline a matching push runs', enum=list(trigger_service.TYPES)),
        'branches': F("a branch name or glob (default: the repo's default branch)",
                      pattern=BRANCH_GLOB, max_length=255),
        'config': F("the pipeline's settings, by type (a webhook's secret shows as "
                    '"***")', schema={'anyOf': [
                        {'$ref': '#/components/schemas/LocalConfig'},
                        {'$ref': '#/components/schemas/WebhookConfig'},
                        {'$ref': '#/components/schemas/SolumConfig'}]}),
        'user_id': _CREATOR,
        'created_at': _CREATED,
    },
    types.PushRef: {
        'ref': F('the updated ref', pattern=REF),
        'old': F('its object id before (zeros: created)', pattern=OBJECT_ID),
        'new': F('its object id after (zeros: deleted)', pattern=OBJECT_ID),
    },
    types.Run: {
        'uuid': F('its id'),
        'uri': _URI,
        'log_uri': F('its log (text/plain)', format='uri'),
        'push_uri': F('the push that started it', format='uri'),
        'repo_uuid': F('the repo'),
        'trigger_uuid': F('the trigger that started it; null once deleted',
                          nullable=True),
        'type': F('its pipeline', enum=list(trigger_service.TYPES)),
        'ref': F('the branch it runs for', pattern=REF),
        'commit': F('the pushed commit it runs on', pattern=OBJECT_ID),
        'status': F('QUEUED, RUNNING, then SUCCESS, FAILED or ERROR',
                    enum=RUN_STATUSES),
        'status_reason': _REASON,
        'app_url': F("the deployed app (local, solum pipelines); else null",
                     nullable=True),
        'attempts': F('delivery attempts so far', minimum=0),
        'release': F("a local deploy that served: its trigger's release number; else "
                     'null', nullable=True, minimum=1),
        'rollback_of': F('a rollback: the run whose build it serves again; else null',
                         nullable=True),
        'deliveries': F('the latest delivery attempts (webhook, solum), oldest first',
                        schema={'type': 'array',
                                'items': {'$ref': '#/components/schemas/Delivery'}}),
        'created_at': _CREATED,
        'updated_at': _UPDATED,
        'started_at': F('when a worker took it; null while queued', nullable=True),
        'finished_at': F('when it ended; null until then', nullable=True),
    },
    types.Release: {
        'release': F('its number among its trigger\'s releases (1, 2, ...)', minimum=1),
        'run_uuid': F('the run that deployed it: POST its actions {"action": '
                      '"rollback"} to serve it again'),
        'run_uri': F('that run', format='uri'),
        'trigger_uuid': F('its trigger'),
        'commit': F('the commit it serves', pattern=OBJECT_ID),
        'ref': F('the branch it was pushed to', pattern=REF),
        'config_version': F("the trigger's config version it ran with", nullable=True),
        'rollback_of': F('a rollback: the run whose build it serves again; else null',
                         nullable=True),
        'app_url': F('where its app served', nullable=True),
        'serving': F('the newest release of its trigger: the app serving now'),
        'deployed_at': F('when it took over (UTC)', nullable=True),
    },
    types.Push: {
        'uuid': F('its id'),
        'uri': _URI,
        'repo_uuid': F('the repo'),
        'repo_uri': F('the repo', format='uri'),
        'push_id': F("the git server's id of this push (recorded once)"),
        'pusher': F('the user who pushed'),
        'refs': F('the refs it updated'),
        'pushed_at': F('when the server received it (UTC)'),
        'created_at': F('when the API recorded it (UTC)'),
        'runs': F('the runs it started'),
    },
    types.DeployToken: {
        'uuid': F('its id'),
        'uri': _URI,
        'repo_uuid': F('the repo'),
        'name': F('a label of 1-255 characters', max_length=255),
        'permission': _DEPLOY_PERMISSION,
        'username': F('the HTTP user name that goes with it: deploy-<12 hex digits>'),
        'token': _SECRET,
        'clone_url': F('http_url with username and token as its user info; only in '
                       'the answer that makes it', nullable=True),
        'expires_at': _EXPIRES,
        'user_id': _CREATOR,
        'created_at': _CREATED,
    },
    types.Token: {
        'uuid': F('its id'),
        'uri': _URI,
        'name': F('a label of 1-255 characters', max_length=255),
        'username': F('the HTTP user name that goes with it: its user id'),
        'token': _SECRET,
        'expires_at': _EXPIRES,
        'user_id': F('its owner: it acts with their access'),
        'project_id': F('the project it was made in'),
        'created_at': _CREATED,
    },
    types.ProtectedBranch: {
        'uri': _URI,
        'repo_uuid': F('the repo'),
        'pattern': F('the branches it protects: a branch name or a glob (*, ?, [...]; '
                     '* also spans "/"), URL-encoded in the path', pattern=BRANCH_GLOB,
                     max_length=255),
        'push': F('who may push to them: RW (every member who may push) or RW+ (RW+ '
                  'members only; the default)', enum=list(policy.PUSH_CHOICES)),
        'allow_force_push': F('whether a push that is not a fast-forward is taken '
                              '(default false, even for RW+)'),
        'allow_delete': F('whether they may be deleted (default false, even for RW+)'),
        'created_at': _CREATED,
        'updated_at': _UPDATED,
    },
    types.ProtectedBranchInput: {
        'push': F('who may push: RW or RW+ (default)', enum=list(policy.PUSH_CHOICES)),
        'allow_force_push': F('take pushes that are not fast-forwards (default false)',
                              schema={'type': ['boolean', 'null']}),
        'allow_delete': F('let the branches be deleted (default false)',
                          schema={'type': ['boolean', 'null']}),
    },
    types.QuotaInput: {name: F(what + ': ' + _LIMIT, schema={
        'type': ['integer', 'null'], 'minimum': -1, 'maximum': 2 ** 31 - 1})
        for name, what in (('repos', 'repos in the project'),
                           ('keys_per_user', 'SSH keys per user'),
                           ('triggers_per_repo', 'triggers per repo'),
                           ('repo_size_mb', 'MiB per repo (enforced at push time)'))},
    types.Quota: {
        'uri': _URI,
        'project_id': F('the project', pattern=IDENT),
        'repos': F('repos in the project: ' + _LIMIT, minimum=-1),
        'keys_per_user': F('SSH keys per user: ' + _LIMIT, minimum=-1),
        'triggers_per_repo': F('triggers per repo: ' + _LIMIT, minimum=-1),
        'repo_size_mb': F('MiB per repo, enforced by the git server when a push '
                          'arrives (a push that does not grow the repo is always '
                          'taken): ' + _LIMIT, minimum=-1),
        'usage': F('what the project uses: repos, and largest_repo_bytes (the biggest '
                   'size_bytes of its repos)', schema={
                       'type': 'object', 'properties': {
                           'repos': {'type': 'integer', 'minimum': 0},
                           'largest_repo_bytes': {'type': 'integer', 'minimum': 0}},
                       'required': ['repos', 'largest_repo_bytes'],
                       'additionalProperties': False}),
    },
    types.DeployKey: {
        'uuid': F('its id'),
        'uri': _URI,
        'repo_uuid': F('the repo'),
        'name': F("a label of at most 255 characters (default: the key's comment, "
                  'else its type)', max_length=255),
        'type': F('the OpenSSH key type; RSA keys have at least %d bits'
                  % sshkey.MIN_RSA_BITS, enum=list(sshkey.ALLOWED_TYPES)),
        'fingerprint': F('as ssh-keygen -lf prints it', pattern='^SHA256:[A-Za-z0-9+/]+$'),
        'public_key': F('one OpenSSH public key line, the rules of user keys; not a '
                        "user's key nor another deploy key (409)"),
        'permission': _DEPLOY_PERMISSION,
        'user_id': _CREATOR,
        'created_at': _CREATED,
    },
}
