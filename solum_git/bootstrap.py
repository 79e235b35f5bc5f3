"""The composition root: the one place that wires config, DB, policy, drivers."""
import os

from solum_git import backups
from solum_git.db import api as db_api
from solum_git import engine as engine_pkg
from solum_git.engine import ownership
from solum_git.engine import service as engine_service
from solum_git.messaging import notifier
from solum_git.messaging import rpc
from solum_git.messaging import sender as sender_mod
from solum_git import policies
from solum_git import provisioners
from solum_git import services as services_pkg


class NullEngine:
    """Where no engine runs in this process: separate engines poll the DB."""

    def notify(self, stack_id, resync=False):
        pass

    def start(self):
        pass

    def stop(self):
        pass


class Root:
    def __init__(self, conf, db, services, engine, provisioner, sender=None, owners=None):
        self.conf = conf
        self.db = db
        self.services = services
        self.engine = engine
        self.provisioner = provisioner
        self.sender = sender
        self.owners = owners    # ownership.Owners: where the casts go
        self._rpc_server = None

    def start_engine(self):
        """The engine's workers, then its RPC server (with a transport_url)."""
        self.engine.start()
        if self.sender is not None and self.sender.casts:
            self._rpc_server = rpc.EngineServer(self.conf, self.engine).start()

    def stop_engine(self):
        if self._rpc_server is not None:
            self._rpc_server.stop()
            self._rpc_server = None
        self.engine.stop()
        if self.sender is not None:
            self.sender.stop()
        if self.owners is not None:
            self.owners.stop()

    def wsgi_app(self):
        from solum_git.api import app
        return app.setup_app(self.conf, self.services)


def build(conf, with_engine=None, engine=None):
    """Everything one process needs; the engine only if asked (or in_process).

    ``engine``: without an engine here, the handle of one elsewhere (the API's
    workers wake the engine of the process that forked them). With a
    ``[DEFAULT] transport_url`` every change is also cast to the engines.
    """
    if with_engine is None:
        with_engine = conf.engine.in_process
    os.makedirs(conf.state_path, mode=0o700, exist_ok=True)
    sender = sender_mod.Sender(conf)
    # the one way a notification goes out: after the commit of what it tells
    db = db_api.Database(conf.database.connection, publish=notifier.Events(sender).publish)
    enforcer = policies.make_enforcer(conf)
    provisioner = provisioners.load(conf.provisioner.driver, conf)
    if with_engine:
        engine = engine_service.Engine(conf, db, provisioner,
                                       engine_pkg.worker_classes(),
                                       backup_store=backups.load(conf.backup.store, conf))
    elif engine is None:
        engine = NullEngine()
    handle = engine
    owners = None
    if sender.casts:
        # the engine in this process (or the pipe to it) and, by a cast, the
        # stack's owner (every engine while it is not known)
        owners = ownership.owners(conf, db, provisioner)
        handle = rpc.Fanout(engine, rpc.EngineClient(sender, rpc.router(conf, owners)))
    services = services_pkg.Services(conf, db, enforcer, handle, provisioner)
    return Root(conf, db, services, engine, provisioner, sender, owners)
