"""The composition root: the one place that wires config, DB, policy, drivers."""
import os

from solum_git.db import api as db_api
from solum_git import engine as engine_pkg
from solum_git.engine import service as engine_service
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
    def __init__(self, conf, db, services, engine, provisioner):
        self.conf = conf
        self.db = db
        self.services = services
        self.engine = engine
        self.provisioner = provisioner

    def wsgi_app(self):
        from solum_git.api import app
        return app.setup_app(self.conf, self.services)


def build(conf, with_engine=None):
    """Everything one process needs; the engine only if asked (or in_process)."""
    if with_engine is None:
        with_engine = conf.engine.in_process
    os.makedirs(conf.state_path, mode=0o700, exist_ok=True)
    db = db_api.Database(conf.database.connection)
    enforcer = policies.make_enforcer(conf)
    provisioner = provisioners.load(conf.provisioner.driver, conf)
    if with_engine:
        engine = engine_service.Engine(conf, db, provisioner,
                                       engine_pkg.worker_classes())
    else:
        engine = NullEngine()
    services = services_pkg.Services(conf, db, enforcer, engine, provisioner)
    return Root(conf, db, services, engine, provisioner)
