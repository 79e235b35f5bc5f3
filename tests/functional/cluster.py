"""A cluster on this machine as an operator runs one (test_cluster.py,
bench/scaleout.py): solum-git-api processes without engines and
solum-git-engine processes on one MariaDB or PostgreSQL database, splitting
the stacks with tooz over the redis of this machine (a namespace of its own).
"""
import contextlib
import os
import re
import uuid

import redis
import sqlalchemy as sa
from tooz import hashring

from solum_git.engine import ownership
from tests.functional import gitserver
from tests.functional import test_resync_intent
from tests import helpers

STARTED = re.compile(r'solum-git engine (\S+) started')


class Cluster:
    def __init__(self, tmp_path, connection, stacks_path, redis_url, apis=2, engines=3,
                 stacks=12, engine_opts=None):
        ssh_low, ssh_high = gitserver.port_range(stacks)
        http_low, http_high = gitserver.port_range(stacks)
        sections = {
            'DEFAULT': {'state_path': tmp_path / 'state'},
            'local': {'ssh_port_min': ssh_low, 'ssh_port_max': ssh_high,
                      'http_port_min': http_low, 'http_port_max': http_high,
                      'stacks_path': stacks_path},
            # no casts (yet): the poll finds the work
            'engine': dict({'in_process': 'false', 'poll_interval': 0.3,
                            'resync_interval': 3600}, **(engine_opts or {})),
            'coordination': {'backend_url': redis_url, 'heartbeat': 1.0},
        }
        self.tmp_path = tmp_path
        self.stacks_path = stacks_path
        self.connection = connection
        self.apis = []
        for i in range(1, apis + 1):
            (tmp_path / ('api%d' % i)).mkdir()
            self.apis.append(helpers.ApiProcess(tmp_path / ('api%d' % i), connection,
                                                extra=sections))
        self.apis[0].manage('db', 'upgrade')
        self.engines = [self.new_engine(i) for i in range(1, engines + 1)]
        self.db = sa.create_engine(connection)

    def new_engine(self, number):
        """An engine process (not started) on API 1's configuration file."""
        return test_resync_intent.Engine(self.apis[0], self.tmp_path, 'engine-%d' % number)

    def start(self, apis=True):
        if apis:
            for api in self.apis:
                api.start()
        for engine in self.engines:
            self.start_engine(engine)

    def start_engine(self, engine):
        if engine.proc is None or engine.proc.poll() is not None:
            engine.start()
        engine.member_id = gitserver.wait_for(
            lambda: member_id(engine), timeout=60, what='%s started' % engine.log_path)
        return engine

    def stop(self):
        try:
            for engine in self.engines:
                engine.stop()
            for api in self.apis:
                api.stop()
        finally:
            try:
                self.apis[0].remove_local_stacks()
            finally:
                left = gitserver.sshd_pids(self.stacks_path)
                for pid in left:
                    os.kill(pid, 9)
                self.db.dispose()
        assert not left, 'sshd processes left running: %s' % left

    def rows(self, sql, **params):
        with self.db.connect() as conn:
            return conn.execute(sa.text(sql), params).mappings().all()

    def owner(self, stack_uuid, engines=None):
        """The engine the ring of ``engines`` (default: all) gives the stack."""
        engines = self.engines if engines is None else engines
        ring = hashring.HashRing([e.member_id for e in engines],
                                 partitions=2 ** ownership.PARTITIONS)
        wanted = next(iter(ring.get_nodes(stack_uuid.encode())))
        return next(e for e in engines if e.member_id == wanted)


def member_id(engine):
    """The engine's id in the group (and in leases), from its start-up line."""
    text = engine.log_path.read_text(errors='replace')
    found = [m.group(1) for m in STARTED.finditer(text)]
    return found[-1] if found else None


@contextlib.contextmanager
def redis_backend():
    """A tooz URL on this machine's redis that no other test shares (a namespace
    of its own); its keys are removed after. No redis: a failure, not a skip."""
    namespace = 'sgtest-%s' % uuid.uuid4().hex[:12]
    client = redis.Redis(host='127.0.0.1', port=6379)
    client.ping()
    try:
        yield 'redis://127.0.0.1:6379?namespace=%s' % namespace
    finally:
        keys = list(client.scan_iter(match=namespace + '*'))
        if keys:
            client.delete(*keys)
        client.close()


@contextlib.contextmanager
def running(tmp_path, backend, start=True, **kwargs):
    """A started Cluster on a new database of ``backend``; everything removed after."""
    with contextlib.ExitStack() as stack:
        redis_url = stack.enter_context(redis_backend())
        stacks_path = stack.enter_context(gitserver.stacks_dir())
        connection = stack.enter_context(helpers.database(backend, tmp_path))
        world = Cluster(tmp_path, connection, stacks_path, redis_url, **kwargs)
        try:
            if start:
                world.start()
            yield world
        finally:
            world.stop()
