"""[quota]: every project's limits unless an admin set its own (PUT /v1/infrastructure/quotas)."""
from oslo_config import cfg

from solum_git.common import quotas

GROUP = 'quota'
UNLIMITED = quotas.UNLIMITED

opts = [
    cfg.IntOpt('repos', default=UNLIMITED, min=UNLIMITED,
               help='Repos a project may have (-1: no limit).'),
    cfg.IntOpt('keys_per_user', default=UNLIMITED, min=UNLIMITED,
               help='SSH keys a user may upload (-1: no limit).'),
    cfg.IntOpt('triggers_per_repo', default=UNLIMITED, min=UNLIMITED,
               help='Triggers a repo may have (-1: no limit).'),
    cfg.IntOpt('repo_size_mb', default=UNLIMITED, min=UNLIMITED,
               help='MiB a repo may hold, enforced by the git server when a push '
                    'arrives: a push that would take the repo over it is refused, '
                    'one that does not grow it is always taken (-1: no limit).'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return {GROUP: opts}
