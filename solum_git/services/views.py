"""Rows to plain dicts: what the API may show (never secrets)."""


def stack(row):
    return {
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


def git_url(stack_row, repo_name):
    if not (stack_row.ssh_host and stack_row.ssh_user):
        return None
    host = stack_row.ssh_host
    if ':' in host:
        host = '[%s]' % host
    return 'ssh://%s@%s:%d/%s' % (stack_row.ssh_user, host, stack_row.ssh_port or 22,
                                  repo_name)


def repo(row):
    return {
        'uuid': row.uuid, 'name': row.name, 'description': row.description,
        'default_branch': row.default_branch, 'status': row.status,
        'status_reason': row.status_reason, 'project_id': row.project_id,
        'user_id': row.user_id, 'stack_uuid': row.stack.uuid,
        'git_url': git_url(row.stack, row.name),
        'created_at': row.created_at, 'updated_at': row.updated_at,
    }


def key(row):
    return {
        'uuid': row.uuid, 'name': row.name, 'type': row.type,
        'fingerprint': row.fingerprint, 'public_key': row.public_key,
        'user_id': row.user_id, 'project_id': row.project_id,
        'created_at': row.created_at,
    }


def member(row, repo_uuid):
    return {
        'repo_uuid': repo_uuid, 'user_id': row.user_id,
        'permission': row.permission, 'created_at': row.created_at,
        'updated_at': row.updated_at,
    }


_SECRET_FIELDS = ('secret',)


def trigger(row, repo_uuid):
    config = {k: ('***' if k in _SECRET_FIELDS else v)
              for k, v in (row.config or {}).items()}
    return {
        'uuid': row.uuid, 'repo_uuid': repo_uuid, 'type': row.type,
        'branches': row.branches, 'config': config, 'user_id': row.user_id,
        'created_at': row.created_at,
    }
