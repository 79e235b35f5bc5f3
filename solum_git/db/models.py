"""SQLAlchemy models: the single source of truth for every tenant git server."""
import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy import orm

Base = orm.declarative_base()

# microseconds everywhere, so newest-first paging is stable on MySQL too
DateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')
# run logs may pass TEXT's 64 KB on MySQL
LongText = sa.Text().with_variant(mysql.LONGTEXT(), 'mysql')


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class _Timestamps:
    created_at = sa.Column(DateTime, nullable=False, default=utcnow)
    updated_at = sa.Column(DateTime, nullable=True, onupdate=utcnow)


class Stack(_Timestamps, Base):
    """One tenant git server (gitolite behind sshd) for one project."""
    __tablename__ = 'stacks'
    __table_args__ = (
        sa.UniqueConstraint('uuid', name='uniq_stacks0uuid'),
        sa.UniqueConstraint('project_id', name='uniq_stacks0project_id'),
        sa.UniqueConstraint('ssh_host', 'ssh_port', name='uniq_stacks0ssh_host0ssh_port'),
        sa.UniqueConstraint('ssh_host', 'http_port', name='uniq_stacks0ssh_host0http_port'),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    uuid = sa.Column(sa.String(36), nullable=False)
    name = sa.Column(sa.String(255), nullable=False)
    description = sa.Column(sa.String(255), nullable=True)
    tags = sa.Column(sa.JSON, nullable=True)
    project_id = sa.Column(sa.String(64), nullable=False)
    user_id = sa.Column(sa.String(64), nullable=False)
    provisioner = sa.Column(sa.String(32), nullable=False)
    status = sa.Column(sa.String(16), nullable=False)
    status_reason = sa.Column(sa.Text, nullable=True)
    image_id = sa.Column(sa.String(255), nullable=True)
    heat_stack_id = sa.Column(sa.String(36), nullable=True)
    ssh_host = sa.Column(sa.String(255), nullable=True)
    ssh_port = sa.Column(sa.Integer, nullable=True)
    ssh_user = sa.Column(sa.String(64), nullable=True)
    ssh_host_keys = sa.Column(sa.Text, nullable=True)
    # the smart HTTP front: its port; its TLS CA and certificate (remote servers,
    # provisioners/tlscerts.py; the keys are never rendered by the API)
    http_port = sa.Column(sa.Integer, nullable=True)
    http_ca_cert = sa.Column(sa.Text, nullable=True)
    http_ca_key = sa.Column(sa.Text, nullable=True)
    http_tls_cert = sa.Column(sa.Text, nullable=True)
    http_tls_key = sa.Column(sa.Text, nullable=True)
    # secrets the engine and the hook need; never rendered by the API
    hook_secret = sa.Column(sa.String(128), nullable=False)
    admin_private_key = sa.Column(sa.Text, nullable=True)
    # desired vs applied: every change bumps config_version; the engine
    # converges the server to it and records applied_version
    config_version = sa.Column(sa.Integer, nullable=False, default=1)
    applied_version = sa.Column(sa.Integer, nullable=False, default=0)
    # an operator's resync: the API counts requests, the engine that did the
    # deep repair records the count it saw (a request during the work stays)
    resync_requested = sa.Column(sa.Integer, nullable=False, default=0,
                                 server_default='0')
    resync_done = sa.Column(sa.Integer, nullable=False, default=0, server_default='0')
    lease_owner = sa.Column(sa.String(64), nullable=True)
    lease_expires = sa.Column(DateTime, nullable=True)
    # the server's own host key: a server lost whole comes back with it
    ssh_host_private_key = sa.Column(sa.Text, nullable=True)
    # an operator asked to restore every repo from its backups (the action's time)
    restore_requested_at = sa.Column(DateTime, nullable=True)


class Repo(_Timestamps, Base):
    __tablename__ = 'repos'
    __table_args__ = (
        sa.UniqueConstraint('uuid', name='uniq_repos0uuid'),
        sa.UniqueConstraint('project_id', 'name', name='uniq_repos0project_id0name'),
        sa.Index('ix_repos_project_created', 'project_id', 'created_at'),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    uuid = sa.Column(sa.String(36), nullable=False)
    name = sa.Column(sa.String(100), nullable=False)
    description = sa.Column(sa.String(255), nullable=True)
    default_branch = sa.Column(sa.String(255), nullable=False)
    project_id = sa.Column(sa.String(64), nullable=False)
    user_id = sa.Column(sa.String(64), nullable=False)
    stack_id = sa.Column(sa.Integer, sa.ForeignKey('stacks.id'), nullable=False,
                         index=True)
    status = sa.Column(sa.String(16), nullable=False)
    status_reason = sa.Column(sa.Text, nullable=True)
    # the last time the engine saw the server's refs equal to the latest backup
    backed_up_at = sa.Column(DateTime, nullable=True)
    # when its newest push was recorded (backup_lag_seconds)
    last_pushed_at = sa.Column(DateTime, nullable=True)
    # undo of a delete: the deleted repo whose backups this one starts from
    restore_from = sa.Column(sa.String(36), nullable=True)
    # what the git server reported after its newest push (post-receive)
    size_bytes = sa.Column(sa.BigInteger, nullable=True)
    size_at = sa.Column(DateTime, nullable=True)

    stack = orm.relationship(Stack, lazy='selectin')


class Key(_Timestamps, Base):
    """A user's SSH public key; one key belongs to exactly one user."""
    __tablename__ = 'keys'
    __table_args__ = (
        sa.UniqueConstraint('uuid', name='uniq_keys0uuid'),
        sa.UniqueConstraint('fingerprint', name='uniq_keys0fingerprint'),
        sa.Index('ix_keys_user_created', 'user_id', 'created_at'),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    uuid = sa.Column(sa.String(36), nullable=False)
    name = sa.Column(sa.String(255), nullable=False)
    type = sa.Column(sa.String(64), nullable=False)
    public_key = sa.Column(sa.Text, nullable=False)
    fingerprint = sa.Column(sa.String(64), nullable=False)
    user_id = sa.Column(sa.String(64), nullable=False)
    project_id = sa.Column(sa.String(64), nullable=False)


class Member(_Timestamps, Base):
    __tablename__ = 'members'
    __table_args__ = (
        sa.UniqueConstraint('repo_id', 'user_id', name='uniq_members0repo_id0user_id'),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    repo_id = sa.Column(sa.Integer, sa.ForeignKey('repos.id', ondelete='CASCADE'),
                        nullable=False)
    user_id = sa.Column(sa.String(64), nullable=False, index=True)
    permission = sa.Column(sa.String(4), nullable=False)


class ProtectedBranch(_Timestamps, Base):
    """Who may push to the branches a pattern matches, and whether they may rewind."""
    __tablename__ = 'protected_branches'
    __table_args__ = (
        sa.UniqueConstraint('repo_id', 'pattern', name='uniq_protected_branches0repo_id0pattern'),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    repo_id = sa.Column(sa.Integer, sa.ForeignKey('repos.id', ondelete='CASCADE'),
                        nullable=False)
    pattern = sa.Column(sa.String(255), nullable=False)
    push = sa.Column(sa.String(4), nullable=False)
    allow_force_push = sa.Column(sa.Boolean, nullable=False)
    allow_delete = sa.Column(sa.Boolean, nullable=False)


class Quota(_Timestamps, Base):
    """A project's limits set by an admin; a NULL limit is [quota]'s default."""
    __tablename__ = 'quotas'
    __table_args__ = (
        sa.UniqueConstraint('project_id', name='uniq_quotas0project_id'),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    project_id = sa.Column(sa.String(64), nullable=False)
    repos = sa.Column(sa.Integer, nullable=True)
    keys_per_user = sa.Column(sa.Integer, nullable=True)
    triggers_per_repo = sa.Column(sa.Integer, nullable=True)
    repo_size_mb = sa.Column(sa.Integer, nullable=True)


class UserQuotaLock(Base):
    """A row per user to count the user's keys under (keys_per_user): a user has no
    row of its own to lock. Made the first time, never changed."""
    __tablename__ = 'user_quota_locks'
    __table_args__ = (
        sa.UniqueConstraint('user_id', name='uniq_user_quota_locks0user_id'),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    user_id = sa.Column(sa.String(64), nullable=False)


class DeployToken(_Timestamps, Base):
    """A credential for git over HTTP to exactly one repo (R or RW); stored hashed."""
    __tablename__ = 'deploy_tokens'
    __table_args__ = (
        sa.UniqueConstraint('uuid', name='uniq_deploy_tokens0uuid'),
        sa.UniqueConstraint('token_hash', name='uniq_deploy_tokens0token_hash'),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    uuid = sa.Column(sa.String(36), nullable=False)
    repo_id = sa.Column(sa.Integer, sa.ForeignKey('repos.id', ondelete='CASCADE'),
                        nullable=False, index=True)
    name = sa.Column(sa.String(255), nullable=False)
    permission = sa.Column(sa.String(4), nullable=False)
    # the HTTP user name that goes with it (deploy-<short id>)
    username = sa.Column(sa.String(64), nullable=False)
    token_hash = sa.Column(sa.String(64), nullable=False)
    expires_at = sa.Column(DateTime, nullable=True)
    user_id = sa.Column(sa.String(64), nullable=False)
    project_id = sa.Column(sa.String(64), nullable=False)


class Token(_Timestamps, Base):
    """A personal access token: git over HTTP with its user's own access."""
    __tablename__ = 'tokens'
    __table_args__ = (
        sa.UniqueConstraint('uuid', name='uniq_tokens0uuid'),
        sa.UniqueConstraint('token_hash', name='uniq_tokens0token_hash'),
        sa.Index('ix_tokens_user_created', 'user_id', 'created_at'),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    uuid = sa.Column(sa.String(36), nullable=False)
    name = sa.Column(sa.String(255), nullable=False)
    token_hash = sa.Column(sa.String(64), nullable=False)
    expires_at = sa.Column(DateTime, nullable=True)
    user_id = sa.Column(sa.String(64), nullable=False)
    project_id = sa.Column(sa.String(64), nullable=False)


class DeployKey(_Timestamps, Base):
    """An SSH public key with access (R or RW) to exactly one repo."""
    __tablename__ = 'deploy_keys'
    __table_args__ = (
        sa.UniqueConstraint('uuid', name='uniq_deploy_keys0uuid'),
        sa.UniqueConstraint('fingerprint', name='uniq_deploy_keys0fingerprint'),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    uuid = sa.Column(sa.String(36), nullable=False)
    repo_id = sa.Column(sa.Integer, sa.ForeignKey('repos.id', ondelete='CASCADE'),
                        nullable=False, index=True)
    name = sa.Column(sa.String(255), nullable=False)
    type = sa.Column(sa.String(64), nullable=False)
    public_key = sa.Column(sa.Text, nullable=False)
    fingerprint = sa.Column(sa.String(64), nullable=False)
    permission = sa.Column(sa.String(4), nullable=False)
    user_id = sa.Column(sa.String(64), nullable=False)
    project_id = sa.Column(sa.String(64), nullable=False)


class Backup(Base):
    """One link of a repo's backup chain: a full bundle or an increment, and its refs.

    Keyed by the repo's uuid, not a foreign key: a deleted repo's backups stay
    for ``[backup] keep_deleted_days`` (``repo_deleted_at`` set) so that the
    delete can be undone.
    """
    __tablename__ = 'backups'
    __table_args__ = (
        sa.UniqueConstraint('uuid', name='uniq_backups0uuid'),
        sa.UniqueConstraint('repo_uuid', 'chain', 'seq',
                            name='uniq_backups0repo_uuid0chain0seq'),
        sa.Index('ix_backups_repo_created', 'repo_uuid', 'created_at'),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    uuid = sa.Column(sa.String(36), nullable=False)
    repo_uuid = sa.Column(sa.String(36), nullable=False)
    repo_name = sa.Column(sa.String(100), nullable=False)
    project_id = sa.Column(sa.String(64), nullable=False, index=True)
    stack_uuid = sa.Column(sa.String(36), nullable=False)
    # the uuid of the chain's full backup; seq 0 is that full one
    chain = sa.Column(sa.String(36), nullable=False)
    seq = sa.Column(sa.Integer, nullable=False)
    kind = sa.Column(sa.String(16), nullable=False)
    refs = sa.Column(sa.JSON, nullable=False)
    head = sa.Column(sa.String(255), nullable=True)
    size_bytes = sa.Column(sa.BigInteger, nullable=False, default=0)
    sha256 = sa.Column(sa.String(64), nullable=True)
    verified = sa.Column(sa.Boolean, nullable=False, default=False)
    # where the bundle is in the store (None: no new objects, the refs are all)
    location = sa.Column(sa.String(512), nullable=True)
    store = sa.Column(sa.String(32), nullable=False)
    # why it cannot be used (a bundle found corrupt at restore)
    broken_reason = sa.Column(sa.Text, nullable=True)
    created_at = sa.Column(DateTime, nullable=False, default=utcnow)
    repo_deleted_at = sa.Column(DateTime, nullable=True)


class Trigger(_Timestamps, Base):
    __tablename__ = 'triggers'
    __table_args__ = (
        sa.UniqueConstraint('uuid', name='uniq_triggers0uuid'),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    uuid = sa.Column(sa.String(36), nullable=False)
    repo_id = sa.Column(sa.Integer, sa.ForeignKey('repos.id', ondelete='CASCADE'),
                        nullable=False, index=True)
    type = sa.Column(sa.String(16), nullable=False)
    branches = sa.Column(sa.String(255), nullable=False)
    config = sa.Column(sa.JSON, nullable=False)
    user_id = sa.Column(sa.String(64), nullable=False)
    # what solum-git made for a solum trigger (never shown, never set by a user):
    # the Keystone trust from its owner, its repo's R deploy token and that
    # token's secret (the pipeline puts it in the URL it hands Solum)
    trust_id = sa.Column(sa.String(64), nullable=True)
    deploy_token_id = sa.Column(sa.String(36), nullable=True)
    deploy_secret = sa.Column(sa.String(255), nullable=True)
    # the token before it (rotation, engine/solum_tokens.py), in use until the git
    # server has the current one: the stack's applied_version >= token_version
    previous_token_id = sa.Column(sa.String(36), nullable=True)
    previous_secret = sa.Column(sa.String(255), nullable=True)
    token_version = sa.Column(sa.Integer, nullable=True)
    # bumped by each change of config: a release says which one it ran with
    config_version = sa.Column(sa.Integer, nullable=False, default=1, server_default='1')


class Push(Base):
    """One ``git push`` as the server's post-receive hook reported it."""
    __tablename__ = 'pushes'
    __table_args__ = (
        sa.UniqueConstraint('uuid', name='uniq_pushes0uuid'),
        # the hook's own id: a retried or doubled callback is one push
        sa.UniqueConstraint('stack_id', 'push_id', name='uniq_pushes0stack_id0push_id'),
        sa.Index('ix_pushes_repo_created', 'repo_id', 'created_at'),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    uuid = sa.Column(sa.String(36), nullable=False)
    push_id = sa.Column(sa.String(64), nullable=False)
    stack_id = sa.Column(sa.Integer, sa.ForeignKey('stacks.id', ondelete='CASCADE'),
                         nullable=False)
    repo_id = sa.Column(sa.Integer, sa.ForeignKey('repos.id', ondelete='CASCADE'),
                        nullable=False)
    pusher = sa.Column(sa.String(64), nullable=False)
    refs = sa.Column(sa.JSON, nullable=False)
    pushed_at = sa.Column(DateTime, nullable=False)
    created_at = sa.Column(DateTime, nullable=False, default=utcnow)


class Run(_Timestamps, Base):
    """One pipeline run started by a push through a trigger."""
    __tablename__ = 'runs'
    __table_args__ = (
        sa.UniqueConstraint('uuid', name='uniq_runs0uuid'),
        sa.UniqueConstraint('push_id', 'trigger_id', name='uniq_runs0push_id0trigger_id'),
        sa.Index('ix_runs_status', 'status'),
        sa.Index('ix_runs_trigger_release', 'trigger_id', 'release'),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    uuid = sa.Column(sa.String(36), nullable=False)
    push_id = sa.Column(sa.Integer, sa.ForeignKey('pushes.id', ondelete='CASCADE'),
                        nullable=False)
    trigger_id = sa.Column(sa.Integer, sa.ForeignKey('triggers.id', ondelete='SET NULL'),
                           nullable=True)
    type = sa.Column(sa.String(16), nullable=False)
    ref = sa.Column(sa.String(255), nullable=False)
    commit = sa.Column(sa.String(64), nullable=False)
    status = sa.Column(sa.String(16), nullable=False)
    status_reason = sa.Column(sa.Text, nullable=True)
    app_url = sa.Column(sa.String(255), nullable=True)
    attempts = sa.Column(sa.Integer, nullable=False, default=0)
    deliveries = sa.Column(sa.JSON, nullable=True)
    started_at = sa.Column(DateTime, nullable=True)
    finished_at = sa.Column(DateTime, nullable=True)
    lease_owner = sa.Column(sa.String(64), nullable=True)
    lease_expires = sa.Column(DateTime, nullable=True)
    # a QUEUED run waits until then (webhook retry backoff)
    next_attempt_at = sa.Column(DateTime, nullable=True)
    # a local deploy that serves: its trigger's release number (1, 2, ...)
    release = sa.Column(sa.Integer, nullable=True)
    # a rollback (or a redeploy for new config): the run whose build it serves again
    rollback_of = sa.Column(sa.String(36), nullable=True)
    # the trigger's config_version the run executed with
    config_version = sa.Column(sa.Integer, nullable=True)
    # deferred: lists of runs never load their logs
    log = orm.deferred(sa.Column(LongText, nullable=True))


class Event(Base):
    """One change of access or content, or a refused attempt (common/events.py).

    No foreign keys: the trail of a deleted repo (or stack) stays.
    """
    __tablename__ = 'events'
    __table_args__ = (
        sa.UniqueConstraint('uuid', name='uniq_events0uuid'),
        sa.Index('ix_events_project_at', 'project_id', 'at'),
        sa.Index('ix_events_resource_at', 'resource_uuid', 'at'),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    uuid = sa.Column(sa.String(36), nullable=False)
    at = sa.Column(DateTime, nullable=False, default=utcnow)
    project_id = sa.Column(sa.String(64), nullable=False)
    user_id = sa.Column(sa.String(64), nullable=False)
    action = sa.Column(sa.String(32), nullable=False)
    outcome = sa.Column(sa.String(16), nullable=False)
    resource_type = sa.Column(sa.String(32), nullable=False)
    resource_uuid = sa.Column(sa.String(36), nullable=False)
    detail = sa.Column(sa.JSON, nullable=False)


class RepoRename(Base):
    """A name a repo had: the server moves its directory once and refuses the old
    URL naming the new one, while no repo of the stack has that name."""
    __tablename__ = 'repo_renames'
    __table_args__ = (
        sa.UniqueConstraint('repo_id', 'old_name', name='uniq_repo_renames0repo_id0old_name'),
        sa.Index('ix_repo_renames_stack_old', 'stack_id', 'old_name'),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    repo_id = sa.Column(sa.Integer, sa.ForeignKey('repos.id', ondelete='CASCADE'),
                        nullable=False)
    stack_id = sa.Column(sa.Integer, sa.ForeignKey('stacks.id', ondelete='CASCADE'),
                         nullable=False)
    old_name = sa.Column(sa.String(100), nullable=False)
    # the server moved the directory (a pending one is never removed as stale)
    moved = sa.Column(sa.Boolean, nullable=False, default=False)
    created_at = sa.Column(DateTime, nullable=False, default=utcnow)


class HookNonce(Base):
    """A signed callback already seen: the same nonce twice is a replay."""
    __tablename__ = 'hook_nonces'
    __table_args__ = (
        sa.UniqueConstraint('stack_id', 'nonce', name='uniq_hook_nonces0stack_id0nonce'),
        sa.Index('ix_hook_nonces_expires_at', 'expires_at'),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    stack_id = sa.Column(sa.Integer, sa.ForeignKey('stacks.id', ondelete='CASCADE'),
                         nullable=False)
    nonce = sa.Column(sa.String(64), nullable=False)
    expires_at = sa.Column(DateTime, nullable=False)


class SandboxUid(Base):
    """The unix uid a project's local commands run as: allocated once, never reused."""
    __tablename__ = 'sandbox_uids'
    __table_args__ = (
        sa.UniqueConstraint('project_id', name='uniq_sandbox_uids0project_id'),
        sa.UniqueConstraint('uid', name='uniq_sandbox_uids0uid'),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    project_id = sa.Column(sa.String(64), nullable=False)
    # uids go up to 2**32 - 2: more than a signed INTEGER holds
    uid = sa.Column(sa.BigInteger, nullable=False)
    created_at = sa.Column(DateTime, nullable=False, default=utcnow)
