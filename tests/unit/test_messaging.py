"""Messaging parts that need no RabbitMQ: event names and payloads, the
sender's promise never to block a request, the engine's RPC endpoint, wiring."""
import time

from solum_git import bootstrap
from solum_git.common import events as actions
from solum_git.messaging import events
from solum_git.messaging import notifier
from solum_git.messaging import rpc
from solum_git.messaging import sender as sender_mod
from tests import helpers


def _conf(tmp_path, **groups):
    return helpers.make_conf(tmp_path, 'sqlite:///%s' % (tmp_path / 'db.sqlite'), **groups)


def test_every_audited_action_and_the_engines_news_have_one_event_type():
    told = actions.ACTIONS + actions.NEWS
    assert set(events.EVENT_TYPES) == set(events.FIELDS) == set(told)
    names = list(events.EVENT_TYPES.values())
    assert len(names) == len(set(names))
    assert all(name.startswith('solum_git.') for name in names)
    assert set(events.RENAMED) | set(events.FIXED) <= set(told)


def test_no_payload_field_is_named_like_a_secret():
    for event, fields in events.FIELDS.items():
        # an X_id holds the API's uuid of an X (a deploy token's, say), never the X
        for field in (f for f in fields if not f.endswith('_id')):
            assert not any(word in field for word in events.SECRET_WORDS), (event, field)


def _event(action, resource_type='repo', outcome=actions.SUCCESS, **detail):
    return {'uuid': 'e1', 'at': None, 'project_id': 'p', 'user_id': 'alice',
            'action': action, 'outcome': outcome, 'resource_type': resource_type,
            'resource_uuid': 'r1', 'detail': detail}


def test_a_payload_holds_only_the_fields_its_action_lists():
    kind, body = events.notification(_event(actions.TRIGGER_CREATE, trigger_uuid='t',
                                            type='webhook', config={'secret': 's'}))
    assert kind == 'solum_git.trigger.create'
    assert body == {'trigger_id': 't', 'repo_id': 'r1', 'project_id': 'p',
                    'type': 'webhook', 'branches': None}


def test_payload_fields_come_from_the_event_its_detail_renames_and_constants():
    kind, body = events.notification(_event(actions.MEMBER_SET, member='bob',
                                            permission='RW', previous='R'))
    assert (kind, body) == ('solum_git.member.set', {
        'repo_id': 'r1', 'project_id': 'p', 'user_id': 'bob', 'permission': 'RW',
        'previous': 'R'})
    kind, body = events.notification(_event(actions.REPO_CREATE, name='app',
                                            stack_uuid='s1'))
    assert (kind, body) == ('solum_git.repo.create.end', {
        'repo_id': 'r1', 'name': 'app', 'project_id': 'p', 'stack_id': 's1',
        'status': 'BUILDING'})
    kind, body = events.notification(_event(actions.TOKEN_DELETE, resource_type='token',
                                            owner='carol'))
    assert (kind, body) == ('solum_git.token.delete', {
        'token_id': 'r1', 'user_id': 'carol', 'project_id': 'p'})
    kind, body = events.notification(actions.news(
        actions.STACK_ERROR, 'stack', 's1', 'p', provisioner='local', status='ERROR',
        status_reason='boom'))
    assert (kind, body) == ('solum_git.stack.error', {
        'stack_id': 's1', 'project_id': 'p', 'provisioner': 'local', 'status': 'ERROR',
        'status_reason': 'boom'})


def test_a_refused_attempt_is_not_told():
    assert events.notification(_event(actions.MEMBER_SET, outcome=actions.DENIED)) is None


def test_without_a_bus_nothing_is_queued_and_no_thread_starts(tmp_path):
    sender = sender_mod.Sender(_conf(tmp_path))
    assert not sender.casts and not sender.notifications
    sender.cast(lambda: ('t', None), 'stack_changed', stack_id=1)
    sender.notify(None, 'solum_git.repo.create.end', {})
    assert sender._thread is None
    assert not notifier.Events(sender).enabled


def test_a_bus_that_refuses_connections_never_blocks_the_caller(tmp_path):
    with helpers.closed_port() as port:
        conf = _conf(tmp_path, DEFAULT={
            'transport_url': 'rabbit://guest:guest@127.0.0.1:%d/' % port},
            oslo_messaging_notifications={'driver': ['messagingv2']},
            messaging={'queue_size': 5})
        sender = sender_mod.Sender(conf)
        client = rpc.EngineClient(sender, rpc.router(conf))
        told = notifier.Events(sender)
        started = time.monotonic()
        for stack_id in range(100):
            client.notify(stack_id)
            told.publish([_event(actions.PUSH, push_uuid='p', refs=[])])
        took = time.monotonic() - started
        stopped = time.monotonic()
        sender.stop(timeout=10)
        stopping = time.monotonic() - stopped
    assert took < 0.5, took
    # one in flight, five queued: the rest are dropped (the poll finds the work)
    assert sender.dropped >= 190, sender.dropped
    assert not sender._thread.is_alive()
    # a failed send marks the bus down: what was queued is dropped without a try
    assert stopping < 10, stopping


class _Engine:
    engine_id = 'host:machine:1:2:abc'

    def __init__(self):
        self.seen = []

    def notify(self, stack_id, resync=False):
        self.seen.append(stack_id)


def test_the_engines_endpoint_wakes_the_engine_for_integer_stack_ids_only():
    engine = _Engine()
    endpoint = rpc.EngineEndpoint(engine)
    endpoint.stack_changed({}, stack_id=7)
    endpoint.stack_changed({}, stack_id='7; drop table')
    endpoint.stack_changed({}, stack_id=True)
    assert engine.seen == [7]


class _Owners:
    def __init__(self, owners):
        self.owners = owners

    def owner(self, stack_id):
        return self.owners.get(stack_id)


def test_casts_go_to_the_owners_server_or_to_every_engine_when_unknown(tmp_path):
    conf = _conf(tmp_path, messaging={'engine_topic': 'engines-x'})
    assert rpc.router(conf)(42) == ('engines-x', None)
    route = rpc.router(conf, _Owners({42: 'engine-a'}))
    assert route(42) == ('engines-x', 'engine-a')
    assert route(43) == ('engines-x', None)


def test_services_cast_to_the_engines_only_with_a_transport_url(tmp_path):
    plain = bootstrap.build(_conf(tmp_path / 'a'), with_engine=False)
    assert isinstance(plain.services.repos.engine, bootstrap.NullEngine)
    url = 'rabbit://guest:guest@127.0.0.1:5672/'
    root = bootstrap.build(_conf(tmp_path / 'b', DEFAULT={'transport_url': url}),
                           with_engine=False)
    handle = root.services.repos.engine
    assert isinstance(handle, rpc.Fanout)
    assert any(isinstance(h, rpc.EngineClient) for h in handle.handles)
    # the one notification path: what the Database's transactions tell, after commit
    assert root.db.publish.__self__.sender is root.sender
    assert plain.db.publish is not None
    plain.db.dispose()
    root.db.dispose()


def test_the_log_driver_needs_no_bus_and_messaging_without_a_url_sends_nothing(tmp_path):
    logged = sender_mod.Sender(_conf(tmp_path / 'a', oslo_messaging_notifications={
        'driver': ['log']}))
    assert logged.notifications and not logged.casts
    logged.notify(None, *events.notification(_event(actions.REPO_CREATE, name='app')))
    logged.stop()
    assert logged.dropped == 0
    nowhere = sender_mod.Sender(_conf(tmp_path / 'b', oslo_messaging_notifications={
        'driver': ['messagingv2']}))
    assert not nowhere.notifications
