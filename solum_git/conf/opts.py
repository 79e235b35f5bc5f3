"""Options for oslo-config-generator (entry point ``solum_git``)."""
from solum_git.conf import api
from solum_git.conf import backup
from solum_git.conf import coordination
from solum_git.conf import default
from solum_git.conf import engine
from solum_git.conf import git_http
from solum_git.conf import heat
from solum_git.conf import hook
from solum_git.conf import local
from solum_git.conf import messaging
from solum_git.conf import pipelines
from solum_git.conf import provisioner
from solum_git.conf import quota
from solum_git.conf import sandbox
from solum_git.conf import secrets
from solum_git.conf import solum

_MODULES = (default, api, engine, provisioner, local, heat, hook, pipelines, sandbox,
            solum, git_http, backup, coordination, messaging, secrets, quota)


DEFAULT_CONNECTION = 'sqlite:///$state_path/solum-git.sqlite'
# [oslo_middleware] max_request_body_size: a key or a trigger config is a few KiB
MAX_REQUEST_BODY_SIZE = 1024 * 1024
HEALTHCHECK_BACKENDS = ['database']


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
    from oslo_middleware.healthcheck import opts as healthcheck_opts
    from oslo_middleware import sizelimit
    # on the opt objects too, so oslo-config-generator shows it
    cfg.set_defaults(db_options.database_opts, connection=DEFAULT_CONNECTION)
    db_options.set_defaults(conf or cfg.CONF, connection=DEFAULT_CONNECTION)
    cfg.set_defaults(sizelimit.OPTS, max_request_body_size=MAX_REQUEST_BODY_SIZE)
    # /healthcheck asks the database (solum_git.api.health)
    cfg.set_defaults(healthcheck_opts.HEALTHCHECK_OPTS, backends=HEALTHCHECK_BACKENDS)
