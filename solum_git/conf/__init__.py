"""Configuration: one module per option group, all registered on ``CONF``."""
from oslo_config import cfg
from oslo_log import log

from solum_git.conf import api
from solum_git.conf import default
from solum_git.conf import engine
from solum_git.conf import heat
from solum_git.conf import hook
from solum_git.conf import local
from solum_git.conf import opts
from solum_git.conf import pipelines
from solum_git.conf import provisioner
from solum_git.conf import solum

CONF = cfg.CONF

_MODULES = (default, api, engine, provisioner, local, heat, hook, pipelines, solum)


def register(conf):
    for module in _MODULES:
        module.register_opts(conf)
    opts.set_defaults(conf)
    log.register_options(conf)


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
