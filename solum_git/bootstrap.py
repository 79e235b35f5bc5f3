"""The composition root: the one place that wires config, DB, policy, drivers."""
import os

from solum_git.db import api as db_api
from solum_git import policies
from solum_git import provisioners
from solum_git import services as services_pkg


class NullEngine:
    """Used where no engine runs in this process: the engines poll the DB."""

    def notify(self, stack_id, resync=False):
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


def build(conf, engine=None):
    os.makedirs(conf.state_path, mode=0o700, exist_ok=True)
    db = db_api.Database(conf.database.connection)
    enforcer = policies.make_enforcer(conf)
    provisioner = provisioners.load(conf.provisioner.driver, conf)
    engine = engine or NullEngine()
    services = services_pkg.Services(conf, db, enforcer, engine, provisioner)
    return Root(conf, db, services, engine, provisioner)
