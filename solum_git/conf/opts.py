"""Options for oslo-config-generator (entry point ``solum_git``)."""
from solum_git.conf import api
from solum_git.conf import default
from solum_git.conf import engine
from solum_git.conf import heat
from solum_git.conf import hook
from solum_git.conf import local
from solum_git.conf import pipelines
from solum_git.conf import provisioner
from solum_git.conf import solum

_MODULES = (default, api, engine, provisioner, local, heat, hook, pipelines, solum)


DEFAULT_CONNECTION = 'sqlite:///$state_path/solum-git.sqlite'


def list_opts():
    groups = {}
    for module in _MODULES:
        for group, opts in module.list_opts().items():
            groups.setdefault(group, []).extend(opts)
    return sorted(groups.items(), key=lambda item: (item[0] != 'DEFAULT', item[0]))


def set_defaults(conf=None):
    """Our defaults for library options (also applied by oslo-config-generator)."""
    from oslo_config import cfg
    from oslo_db import options as db_options
    # on the opt objects too, so oslo-config-generator shows it
    cfg.set_defaults(db_options.database_opts, connection=DEFAULT_CONNECTION)
    db_options.set_defaults(conf or cfg.CONF, connection=DEFAULT_CONNECTION)
