"""``solum-git-api-wsgi``: the API for a WSGI server of the operator's (uwsgi, mod_wsgi).

pbr's ``wsgi_scripts`` makes the script: a server loads it and calls
``init_application()`` once per process. No engine runs in it: run
``solum-git-engine`` beside it (``[engine] in_process`` is not read here).
The configuration file comes from ``SOLUM_GIT_CONFIG_FILE`` (several: comma
separated), else oslo.config's usual places (``/etc/solum-git/solum-git.conf``).
"""
import os

from oslo_log import log

from solum_git import bootstrap
from solum_git.common import private
from solum_git import conf as conf_pkg

CONFIG_ENV = 'SOLUM_GIT_CONFIG_FILE'


def init_application():
    conf = conf_pkg.CONF
    files = [f for f in os.environ.get(CONFIG_ENV, '').split(',') if f]
    conf_pkg.parse_args([], conf, default_config_files=files or None)
    private.umask()
    log.setup(conf, 'solum-git')
    private.protect(conf)
    return bootstrap.build(conf, with_engine=False).wsgi_app()
