"""Rows to plain dicts: what the API may show (never secrets)."""
import datetime
from typing import Any, Optional

from solum_git.common import urls
from solum_git.services import deploy_config

# what a service answers for one row: plain values, rendered by the API
View = dict[str, Any]


def stack(row: Any, conf: Any) -> View:
    return {
        'http_url': urls.http_base(conf, row),
        'http_ca_cert': row.http_ca_cert,
        'uuid': row.uuid, 'name': row.name, 'description': row.description,
        'tags': list(row.tags or []), 'project_id': row.project_id,
        'user_id': row.user_id, 'image_id': row.image_id,
        'heat_stack_id': row.heat_stack_id, 'kind': 'git',
        'provisioner': row.provisioner, 'status': row.status,
        'status_reason': row.status_reason, 'ssh_host': row.ssh_host,
        'ssh_port': row.ssh_port, 'ssh_user': row.ssh_user,
        'ssh_host_keys': (row.ssh_host_keys or '').splitlines(),
        'created_at': row.created_at, 'updated_at': row.updated_at,
    }


def git_url(stack_row: Any, repo_name: str) -> Optional[str]:
    if not (stack_row.ssh_host and stack_row.ssh_user):
        return None
    return urls.git_url(stack_row.ssh_user, stack_row.ssh_host, stack_row.ssh_port,
                        repo_name)


def repo(row: Any, conf: Any) -> View:
    return {
        'http_url': urls.http_url(conf, row.stack, row.name),
        'uuid': row.uuid, 'name': row.name, 'description': row.description,
        'default_branch': row.default_branch, 'status': row.status,
        'status_reason': row.status_reason, 'project_id': row.project_id,
        'user_id': row.user_id, 'stack_uuid': row.stack.uuid,
        'git_url': git_url(row.stack, row.name),
        'backed_up_at': row.backed_up_at, 'restore_from': row.restore_from,
        'backup_lag_seconds': backup_lag(row.backed_up_at, row.last_pushed_at),
        'size_bytes': row.size_bytes,
        'created_at': row.created_at, 'updated_at': row.updated_at,
    }


def protected_branch(row: Any, repo_uuid: str) -> View:
    return {'repo_uuid': repo_uuid, 'pattern': row.pattern, 'push': row.push,
            'allow_force_push': bool(row.allow_force_push),
            'allow_delete': bool(row.allow_delete),
            'created_at': row.created_at, 'updated_at': row.updated_at}


def quota(project_id: str, limits: dict[str, int], usage: dict[str, int]) -> View:
    return dict(limits, project_id=project_id, usage=usage)


def backup_lag(backed_up_at: Any, last_pushed_at: Any, now: Any = None) -> Optional[int]:
    """Seconds the newest push has waited for a backup (0: covered; None: no push)."""
    if last_pushed_at is None:
        return None if backed_up_at is None else 0
    if backed_up_at is not None and backed_up_at >= last_pushed_at:
        return 0
    now = now or datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    return max(0, int((now - last_pushed_at).total_seconds()))


def backup(row: Any) -> View:
    return {
        'uuid': row.uuid, 'repo_uuid': row.repo_uuid, 'created_at': row.created_at,
        'kind': row.kind, 'chain': row.chain, 'seq': row.seq, 'refs': dict(row.refs or {}),
        'head': row.head, 'size_bytes': row.size_bytes,
        'verified': bool(row.verified) and not row.broken_reason,
        'broken_reason': row.broken_reason,
    }


def key(row: Any) -> View:
    return {
        'uuid': row.uuid, 'name': row.name, 'type': row.type,
        'fingerprint': row.fingerprint, 'public_key': row.public_key,
        'user_id': row.user_id, 'project_id': row.project_id,
        'created_at': row.created_at,
    }


def member(row: Any, repo_uuid: str) -> View:
    return {
        'repo_uuid': repo_uuid, 'user_id': row.user_id,
        'permission': row.permission, 'created_at': row.created_at,
        'updated_at': row.updated_at,
    }


_SECRET_FIELDS = ('secret',)


def trigger(row: Any, repo_uuid: str) -> View:
    config = {k: ('***' if k in _SECRET_FIELDS else v)
              for k, v in deploy_config.shown(row.config or {}).items()}
    return {
        'uuid': row.uuid, 'repo_uuid': repo_uuid, 'type': row.type,
        'branches': row.branches, 'config': config, 'user_id': row.user_id,
        'created_at': row.created_at,
    }


def deploy_token(row: Any, repo_uuid: str) -> View:
    return {
        'uuid': row.uuid, 'repo_uuid': repo_uuid, 'name': row.name,
        'permission': row.permission, 'username': row.username,
        'expires_at': row.expires_at, 'user_id': row.user_id,
        'created_at': row.created_at,
        # the secret is known only to the answer that makes it
        'token': None, 'clone_url': None,
    }


def token(row: Any) -> View:
    return {
        'uuid': row.uuid, 'name': row.name, 'username': row.user_id,
        'expires_at': row.expires_at, 'user_id': row.user_id,
        'project_id': row.project_id, 'created_at': row.created_at, 'token': None,
    }


def deploy_key(row: Any, repo_uuid: str) -> View:
    return {
        'uuid': row.uuid, 'repo_uuid': repo_uuid, 'name': row.name, 'type': row.type,
        'fingerprint': row.fingerprint, 'public_key': row.public_key,
        'permission': row.permission, 'user_id': row.user_id,
        'created_at': row.created_at,
    }
