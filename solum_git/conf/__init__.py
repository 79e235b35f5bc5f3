"""Configuration: one module per option group, all registered on ``CONF``."""
from oslo_config import cfg
from oslo_log import log
from oslo_middleware.healthcheck import opts as healthcheck_opts
from oslo_middleware import http_proxy_to_wsgi
from oslo_middleware import sizelimit

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
from solum_git.conf import opts
from solum_git.conf import pipelines
from solum_git.conf import provisioner
from solum_git.conf import quota
from solum_git.conf import sandbox
from solum_git.conf import secrets
from solum_git.conf import solum

CONF = cfg.CONF

_MODULES = (default, api, engine, provisioner, local, heat, hook, pipelines, sandbox,
            solum, git_http, backup, coordination, messaging, secrets, quota)


def register(conf):
    for module in _MODULES:
        module.register_opts(conf)
    opts.set_defaults(conf)
    log.register_options(conf)
    # the API's middleware options; registered here so that every process can read them
    conf.register_opts(sizelimit.OPTS, group='oslo_middleware')
    conf.register_opts(http_proxy_to_wsgi.OPTS, group='oslo_middleware')
    conf.register_opts(healthcheck_opts.HEALTHCHECK_OPTS, group='healthcheck')


def new():
    """A fresh ConfigOpts with every option registered (tests, tools)."""
    conf = cfg.ConfigOpts()
    register(conf)
    return conf


def parse_args(argv, conf=None, default_config_files=None):
    conf = conf or CONF
    conf(argv, project='solum-git', prog=None,
         default_config_files=default_config_files)
    return conf


register(CONF)
