import os

from oslo_config import cfg


def _default_state_path():
    # root gets the system location; an ordinary user gets a per-user one
    if os.geteuid() == 0:
        return '/var/lib/solum-git'
    base = os.environ.get('XDG_STATE_HOME') or os.path.expanduser('~/.local/state')
    return os.path.join(base, 'solum-git')


opts = [
    cfg.StrOpt('state_path',
               default=_default_state_path(),
               sample_default='<per-user: $XDG_STATE_HOME/solum-git, root: /var/lib/solum-git>',
               help='Directory for all local data: the SQLite file, local '
                    'stacks, run work dirs and the hook spool.'),
]


def register_opts(conf):
    conf.register_opts(opts)


def list_opts():
    return {'DEFAULT': opts}
