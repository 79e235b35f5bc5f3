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
    # secrets the engine and the hook need; never rendered by the API
    hook_secret = sa.Column(sa.String(128), nullable=False)
    admin_private_key = sa.Column(sa.Text, nullable=True)
    # desired vs applied: every change bumps config_version; the engine
    # converges the server to it and records applied_version
    config_version = sa.Column(sa.Integer, nullable=False, default=1)
    applied_version = sa.Column(sa.Integer, nullable=False, default=0)
    lease_owner = sa.Column(sa.String(64), nullable=True)
    lease_expires = sa.Column(DateTime, nullable=True)


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
    # deferred: lists of runs never load their logs
    log = orm.deferred(sa.Column(LongText, nullable=True))


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
