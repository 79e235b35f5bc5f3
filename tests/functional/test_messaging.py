"""oslo.messaging on a real RabbitMQ: casts from the API's process reach a
separate engine process well within its poll, notifications reach a real
listener, and with RabbitMQ gone the API answers at once and the poll still
applies every change. With coordination (redis), a cast goes to the stack's
owner alone, and after a join or a leave to the new owner.
"""
import json
import time
import uuid

import pytest

from solum_git import bootstrap
from solum_git.common import events
from solum_git.db import migration
from solum_git.db import models
from solum_git.engine import service
from solum_git.messaging import rpc
from solum_git.services import audit
from solum_git.services import context
from tests.functional import cluster
from tests.functional import gitserver
from tests.functional import rabbit
from tests.functional import test_push_webhook
from tests.functional import test_resync_intent
from tests import helpers

# the engine's safety net, far longer than any wait below that counts on a cast
POLL = 30
# a change applied by a cast: well under POLL (a gitolite-admin push is ~1-2 s
# on a loaded machine)
CAST_APPLIES_IN = 10
# a new git server's first start (sshd, gitolite setup) on a loaded machine
BOOT = 120
PROJECT = 'project-msg'


def _listening(engine):
    return 'listening on topic' in engine.log_path.read_text(errors='replace')


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('messaging')
    receiver = test_push_webhook.Receiver()
    receiver.plan = {}
    with rabbit.vhost() as vhost, gitserver.stacks_dir() as stacks, \
            cluster.redis_backend() as coordination:
        listener = rabbit.Listener(vhost.url).start()
        # with coordination, the API's casts name the owner's server (rpc.py)
        api = gitserver.GitApi(tmp, stacks, extra={
            'DEFAULT': {'transport_url': vhost.url},
            'coordination': {'backend_url': coordination},
            'oslo_messaging_notifications': {'driver': 'messagingv2'},
            'engine': {'in_process': 'false', 'poll_interval': POLL},
            'pipelines': {'webhook_allow_private': 'true'}})
        engine = test_resync_intent.Engine(api, tmp, 'engine')
        try:
            api.start()
            engine.start()
            gitserver.wait_for(lambda: _listening(engine), 60,
                               what="the engine's RPC server")
            # the engine's first pass is over: from here on only casts wake it
            time.sleep(1)
            dev = gitserver.Dev(api, tmp, PROJECT, 'alice')
            yield {'api': api, 'engine': engine, 'dev': dev, 'vhost': vhost,
                   'listener': listener, 'receiver': receiver, 'tmp': tmp}
        finally:
            engine.stop()
            api.stop()
            listener.stop()
            receiver.server.shutdown()
            receiver.server.server_close()


def _app(world):
    """The module's repo 'app', made by whichever test of this worker needs it first."""
    if 'repo' not in world:
        world['repo'] = world['dev'].wait_active(world['dev'].create_repo('app'), timeout=BOOT)
    return world['repo']


def test_a_cast_from_the_api_reaches_a_separate_engine_well_within_its_poll(world):
    dev, api = world['dev'], world['api']
    repo = _app(world)
    took = []
    for user, permission in (('bob', 'RW'), ('carol', 'R'), ('bob', 'R')):
        started = time.monotonic()
        dev.set_member(repo, user, permission)
        api.wait_applied(PROJECT, timeout=POLL - 2)
        took.append(time.monotonic() - started)
    assert max(took) < CAST_APPLIES_IN, took
    log = world['engine'].log_path.read_text(errors='replace')
    assert 'Traceback' not in log, log[-3000:]


def test_notifications_of_repo_create_push_and_run_end_reach_a_listener(world):
    dev, listener, receiver = world['dev'], world['listener'], world['receiver']
    repo = _app(world)
    r = dev.api.post('/v1/infrastructure/repos/%s/triggers' % repo['uuid'], json={
        'type': 'webhook', 'config': {'url': receiver.url,
                                      'secret': test_push_webhook.SECRET}})
    assert r.status_code == 201, r.text
    trigger = r.json()
    dev.pin()
    done, work = dev.clone(repo['git_url'], 'work')
    assert done.returncode == 0, done.stderr
    commit = dev.commit(work, 'first', {'README': 'hello\n'})
    pushed = dev.push(work, 'HEAD:refs/heads/main')
    assert pushed.returncode == 0, pushed.stderr

    created = listener.wait_for(
        lambda e: e['event_type'] == 'solum_git.repo.create.end'
        and e['payload']['repo_id'] == repo['uuid'], what='repo.create.end')
    assert created['payload']['name'] == 'app'
    assert created['payload']['project_id'] == PROJECT
    assert created['publisher_id'].startswith('solum-git.')
    assert created['context']['user'] == 'alice'
    assert created['context']['auth_token'] is None
    push = listener.wait_for(
        lambda e: e['event_type'] == 'solum_git.push.received'
        and e['payload']['repo_id'] == repo['uuid'], what='push.received')
    assert [ref['new'] for ref in push['payload']['refs']] == [commit]
    assert len(push['payload']['runs']) == 1
    end = listener.wait_for(
        lambda e: e['event_type'] == 'solum_git.run.end'
        and e['payload']['run_id'] == push['payload']['runs'][0], what='run.end')
    assert end['payload']['status'] == 'SUCCESS', end
    assert end['payload']['trigger_id'] == trigger['uuid']
    assert end['payload']['commit'] == commit
    listener.wait_for(lambda e: e['event_type'] == 'solum_git.run.start'
                      and e['payload']['run_id'] == end['payload']['run_id'],
                      what='run.start')
    listener.wait_for(lambda e: e['event_type'] == 'solum_git.trigger.create'
                      and e['payload']['trigger_id'] == trigger['uuid'],
                      what='trigger.create')
    listener.wait_for(lambda e: e['event_type'] == 'solum_git.stack.active'
                      and e['payload']['project_id'] == PROJECT, what='stack.active')
    listener.wait_for(lambda e: e['event_type'] == 'solum_git.key.create'
                      and e['payload']['key_id'] == dev.key_uuid, what='key.create')
    # nothing secret on the bus: not the webhook's secret, not a private key
    heard = json.dumps(listener.events)
    assert test_push_webhook.SECRET not in heard
    assert 'PRIVATE KEY' not in heard
    assert receiver.deliveries and receiver.deliveries[-1]['signed']


def test_audited_member_set_and_repo_rename_reach_a_listener_and_a_denial_does_not(world):
    dev, listener = world['dev'], world['listener']
    repo = dev.create_repo('told')
    dev.set_member(repo, 'bob', 'RW')
    r = dev.api.put('/v1/infrastructure/repos/%s' % repo['uuid'],
                    json={'name': 'told2', 'description': 'renamed'})
    assert r.status_code == 200, r.text
    # bob is no RW+ member: his change is refused (a denied event, rolled back)
    bob = helpers.Client(world['api'].url, PROJECT, 'bob')
    r = bob.put('/v1/infrastructure/repos/%s/members/mallory' % repo['uuid'],
                json={'permission': 'RW+'})
    assert r.status_code == 403, r.text

    member = listener.wait_for(
        lambda e: e['event_type'] == 'solum_git.member.set'
        and e['payload']['repo_id'] == repo['uuid'], what='member.set')
    assert member['payload'] == {'repo_id': repo['uuid'], 'project_id': PROJECT,
                                 'user_id': 'bob', 'permission': 'RW', 'previous': None}
    assert member['context']['user'] == 'alice'
    assert member['context']['request_id'].startswith('req-')
    renamed = listener.wait_for(
        lambda e: e['event_type'] == 'solum_git.repo.rename'
        and e['payload']['repo_id'] == repo['uuid'], what='repo.rename')
    assert renamed['payload'] == {'repo_id': repo['uuid'], 'project_id': PROJECT,
                                  'old_name': 'told', 'name': 'told2',
                                  'description': 'renamed', 'default_branch': None}
    # the denied attempt is in the audit trail, not on the bus
    denied = dev.api.get('/v1/infrastructure/events', params={
        'resource_uuid': repo['uuid'], 'outcome': 'denied'}).json()
    assert [(e['action'], e['user_id']) for e in denied] == [('member.set', 'bob')]
    time.sleep(1)
    assert not [e for e in listener.events if e['payload'].get('user_id') == 'mallory']


def test_a_rolled_back_transaction_tells_the_bus_nothing(world, tmp_path):
    """A process of its own on the same bus: what a transaction told before its
    rollback never leaves; the next one that commits does."""
    listener = world['listener']
    conf = helpers.make_conf(tmp_path / 'state', 'sqlite:///%s' % (tmp_path / 'db.sqlite'),
                             DEFAULT={'transport_url': world['vhost'].url},
                             oslo_messaging_notifications={'driver': ['messagingv2']})
    root = bootstrap.build(conf, with_engine=False)
    migration.upgrade(root.db.engine)
    ctx = context.RequestContext(user_id='alice', project_id=PROJECT, overwrite=False)
    try:
        with pytest.raises(RuntimeError):
            with root.db.writer() as session:
                audit.by(session, ctx, events.MEMBER_SET, 'repo', 'rolled-back',
                         member='rolled-back')
                raise RuntimeError('the change fails after its event was written')
        with root.db.writer() as session:
            audit.by(session, ctx, events.MEMBER_SET, 'repo', 'committed', member='committed')
        listener.wait_for(lambda e: e['payload'].get('repo_id') == 'committed',
                          what='the committed member.set')
        time.sleep(1)
        assert not [e for e in listener.events
                    if e['payload'].get('repo_id') == 'rolled-back']
        with root.db.reader() as session:
            assert [e.resource_uuid for e in session.query(models.Event)] == ['committed']
    finally:
        root.stop_engine()
        root.db.dispose()


def test_with_rabbitmq_gone_the_api_answers_at_once_and_the_poll_applies(world):
    dev, api, vhost = world['dev'], world['api'], world['vhost']
    repo = _app(world)
    vhost.down()
    try:
        answers = []
        for user in ('dave', 'erin', 'frank'):
            started = time.monotonic()
            dev.set_member(repo, user, 'RW')
            answers.append(time.monotonic() - started)
        assert max(answers) < 1.0, answers
        # nothing lost: the engine's poll finds the changes the casts could not carry
        api.wait_applied(PROJECT, timeout=POLL * 3)
        members = {m['user_id'] for m in dev.api.get(
            '/v1/infrastructure/repos/%s/members' % repo['uuid']).json()}
        assert {'dave', 'erin', 'frank'} <= members
    finally:
        vhost.up()
    # the bus back: changes still converge (casts again once the engine reconnects)
    dev.set_member(repo, 'grace', 'R')
    api.wait_applied(PROJECT, timeout=POLL * 3)
    assert world['engine'].proc.poll() is None, 'the engine died with the bus'


def test_rabbitmq_missing_is_a_failure_not_a_skip(monkeypatch):
    """A wrong rabbitmqctl (as on a machine without RabbitMQ) fails loudly."""
    monkeypatch.setenv('PATH', '/nonexistent')
    with pytest.raises(AssertionError, match='rabbitmqctl not found'):
        with rabbit.vhost():
            pass


# -- casts to the stack's owner ([coordination] backend_url) ---------------------

HEARTBEAT = 0.5
# a cast on the bus and through the endpoint, on a loaded machine
HEARD_WITHIN = 10


class _Heard(service.Worker):
    """Records the stacks the engine is told about; does no work."""

    name = 'heard'

    def __init__(self, engine):
        super().__init__(engine)
        self.stacks = []

    def wake(self, stack_id=None, **kwargs):
        if stack_id is not None:
            self.stacks.append(stack_id)
        super().wake()

    def run_once(self):
        return False


def _stacks(root, count):
    """``count`` stacks of this host (the local provisioner's ring of 127.0.0.1)."""
    ids = {}
    with root.db.writer() as session:
        for n in range(count):
            row = models.Stack(uuid=str(uuid.uuid4()), name='s%d' % n, project_id='p%d' % n,
                               user_id='u', provisioner='local', status='ACTIVE',
                               hook_secret='x', ssh_host=root.conf.local.ssh_host,
                               ssh_port=21000 + n)
            session.add(row)
            session.flush()
            ids[row.id] = row
        return {stack_id: _Place(row.uuid, row.ssh_host) for stack_id, row in ids.items()}


class _Place:
    def __init__(self, uuid_, ssh_host):
        self.uuid, self.ssh_host = uuid_, ssh_host


@pytest.fixture
def routed(make_root, sqlite_url):
    """An API's root (casts, coordination) and a way to start engines with an
    RPC server each, on a vhost of the real RabbitMQ and a namespace of redis."""
    with rabbit.vhost() as vhost, cluster.redis_backend() as backend:
        root = make_root(sqlite_url, DEFAULT={'transport_url': vhost.url},
                         coordination={'backend_url': backend, 'heartbeat': HEARTBEAT},
                         engine={'poll_interval': 3600})
        running = []

        def start_engine():
            engine = service.Engine(root.conf, root.db, root.provisioner, (_Heard,))
            engine.start()
            server = rpc.EngineServer(root.conf, engine).start()
            running.append((engine, server))
            gitserver.wait_for(lambda: server.listening, timeout=60,
                               what="the engine's RPC server")
            return engine

        def stop_engine(engine):
            for pair in [p for p in running if p[0] is engine]:
                running.remove(pair)
                pair[1].stop()
                pair[0].stop()
        try:
            yield root, start_engine, stop_engine
        finally:
            for engine, _server in list(running):
                stop_engine(engine)
            root.stop_engine()


def _settled(root, places, engines):
    """The API's view (root.owners) gives every stack the owner the engines' rings give."""
    def agree():
        for engine in engines:
            if len(engine.ownership.refresh()) != len(engines):
                return False
        for stack_id, place in places.items():
            owners = [e.engine_id for e in engines if e.owns(place)]
            if len(owners) != 1 or root.owners.owner(stack_id) != owners[0]:
                return False
        return True
    gitserver.wait_for(agree, timeout=30, interval=0.1, what='the rings settled')


def _cast_each(root, places, engines):
    """Cast every stack's change from the API's handle; who heard which stacks."""
    for engine in engines:
        engine.workers[0].stacks.clear()
    handle = root.services.repos.engine
    for stack_id in places:
        handle.notify(stack_id)
    owner = {stack_id: next(e for e in engines if e.owns(place))
             for stack_id, place in places.items()}
    gitserver.wait_for(lambda: all(stack_id in owner[stack_id].workers[0].stacks
                                   for stack_id in places), timeout=HEARD_WITHIN,
                       interval=0.05, what="every owner's cast")
    time.sleep(1)   # a stray cast (a fanout) would have reached the others by now
    return owner, {e.engine_id: sorted(e.workers[0].stacks) for e in engines}


def test_a_cast_reaches_only_the_stacks_owner_and_follows_the_membership(routed):
    root, start_engine, stop_engine = routed
    places = _stacks(root, 16)
    a, b = start_engine(), start_engine()
    _settled(root, places, [a, b])
    owner, heard = _cast_each(root, places, [a, b])
    for engine in (a, b):
        mine = sorted(s for s in places if owner[s] is engine)
        assert mine, 'the ring gives each engine a share'
        # its own stacks, once each; not one of the other engine's
        assert heard[engine.engine_id] == mine, (engine.engine_id, heard, mine)

    # a third engine joins: the stacks the ring moves to it are cast to it
    c = start_engine()
    _settled(root, places, [a, b, c])
    owner, heard = _cast_each(root, places, [a, b, c])
    assert heard[c.engine_id], 'the new engine took a share'
    for engine in (a, b, c):
        assert heard[engine.engine_id] == sorted(s for s in places if owner[s] is engine)

    # one leaves: its stacks go to the others, and so do their casts
    stop_engine(b)
    _settled(root, places, [a, c])
    owner, heard = _cast_each(root, places, [a, c])
    assert set(heard) == {a.engine_id, c.engine_id}
    for engine in (a, c):
        assert heard[engine.engine_id] == sorted(s for s in places if owner[s] is engine)


def test_while_the_owner_is_unknown_every_engine_hears_the_cast(routed):
    """An owner not known (a stack the database does not have): a fanout."""
    root, start_engine, _stop = routed
    a, b = start_engine(), start_engine()
    _settled(root, {}, [a, b])
    root.services.repos.engine.notify(999)
    gitserver.wait_for(lambda: all(999 in e.workers[0].stacks for e in (a, b)),
                       timeout=HEARD_WITHIN, what='the cast at every engine')
