"""Real Solum 15.0.0 API on loopback, without Keystone: the solum pipeline's test peer.

Run it with the Solum virtualenv's python (tools/solum-testenv.sh makes it):

    .venv-solum/bin/python tools/solum_harness.py --port PORT

It prints ``READY <port>`` once it serves. Solum 15.0.0 does not run as it
ships on the OpenStack 2023.2 stack; this harness patches, at start-up only
and in this process only, exactly these known problems:

1. Its ``WorkflowsController`` and ``WorkflowController`` call
   ``super().__init__(self)`` (TypeError: every ``/v1/apps/{id}/workflows``
   request answers 405). Their ``__init__`` is replaced by one that only sets
   the attributes the originals set.
2. Keystone's auth_token middleware is left out, while
   ``enable_authentication = True`` keeps Solum's context hook building the
   request context from ``X-User-Id`` / ``X-Project-Id`` / ``X-Roles`` (with
   authentication off every controller answers 500).
3. ``keystone_version = 2`` so creating an app makes no Keystone trust, and
   ``transport_url = fake://`` so the API casts to no worker.
4. Its database is ``sqlite://`` in memory with the tables created from its
   models (its migrations fail on SQLite; a file database locks on workflow
   create), on one shared connection (its per-thread pool would give every
   green thread an empty database of its own).
"""
import argparse
import sys


def _patch_workflow_controllers():
    from solum.api.controllers.v1 import workflow

    def collection_init(self, app_id):
        self.app_id = app_id

    def item_init(self, app_id, wf_id):
        self.app_id = app_id
        self.wf_id = wf_id

    workflow.WorkflowsController.__init__ = collection_init
    workflow.WorkflowController.__init__ = item_init


CONFIG = """[DEFAULT]
enable_authentication = True
keystone_version = 2
transport_url = fake://
[database]
connection = sqlite://
[api]
host = 127.0.0.1
port = %d
"""


def _configure(port):
    import os
    import tempfile
    from oslo_config import cfg
    from solum.common import service
    fd, path = tempfile.mkstemp(prefix='solum-harness-', suffix='.conf')
    with os.fdopen(fd, 'w') as f:
        f.write(CONFIG % port)
    try:
        service.prepare_service([sys.argv[0], '--config-file', path])
    finally:
        os.unlink(path)
    return cfg.CONF


class _Facade:
    """One in-memory SQLite connection for every session (a per-thread pool
    would give each green thread its own empty database)."""

    def __init__(self):
        import sqlalchemy
        from sqlalchemy import orm
        self.engine = sqlalchemy.create_engine(
            'sqlite://', poolclass=sqlalchemy.pool.StaticPool,
            connect_args={'check_same_thread': False})
        self._maker = orm.sessionmaker

    def get_engine(self):
        return self.engine

    def get_session(self, autocommit=True, expire_on_commit=False):
        return self._maker(bind=self.engine, autocommit=autocommit,
                           expire_on_commit=expire_on_commit)()


def _database():
    from solum.objects import sqlalchemy as object_sqla
    from solum.objects.sqlalchemy import models
    facade = _Facade()
    object_sqla.get_facade = lambda: facade
    models.Base.metadata.create_all(facade.engine)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument('--port', type=int, required=True)
    args = parser.parse_args(argv)
    conf = _configure(args.port)
    _patch_workflow_controllers()
    from solum.api import auth
    auth.install = lambda app, conf: app
    from solum import objects
    objects.load()
    _database()
    from solum.api import app as api_app
    import eventlet
    from eventlet import wsgi
    app = api_app.setup_app()
    sock = eventlet.listen(('127.0.0.1', args.port))
    print('READY %d' % sock.getsockname()[1], flush=True)
    wsgi.server(sock, app, log_output=False)
    return conf


if __name__ == '__main__':
    main()
