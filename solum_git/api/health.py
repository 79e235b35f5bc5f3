"""``/healthcheck``'s own check (oslo.middleware plugin ``database``): does the DB answer?

The middleware answers ``200 OK`` or ``503`` with the reason, no auth: a load
balancer asks it. The reason names no host or error text unless ``[healthcheck]
detailed``.
"""
import logging
import threading

from oslo_middleware.healthcheck import pluginbase
import sqlalchemy as sa

from solum_git.db import api as db_api

LOG = logging.getLogger(__name__)


class DatabaseCheck(pluginbase.HealthcheckBaseExtension):
    """``SELECT 1`` on ``[database] connection``, on a pool of its own."""

    def __init__(self, oslo_conf, conf):
        super().__init__(oslo_conf, conf)
        self._db = None
        self._lock = threading.Lock()

    def _database(self):
        with self._lock:
            if self._db is None:
                self._db = db_api.Database(self.oslo_conf.database.connection,
                                           max_pool_size=1, max_overflow=1)
            return self._db

    def healthcheck(self, server_port):
        try:
            with self._database().reader() as session:
                session.execute(sa.text('SELECT 1'))
        except Exception as e:
            LOG.warning('healthcheck: the database does not answer: %s', e)
            return pluginbase.HealthcheckResult(
                available=False, reason='database: does not answer',
                details=str(e))
        return pluginbase.HealthcheckResult(available=True, reason='database: OK')
