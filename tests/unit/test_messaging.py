"""Messaging parts that need no RabbitMQ: event names and payloads, the
sender's promise never to block a request, the engine's RPC endpoint, wiring."""
import time

import pytest

from solum_git import bootstrap
from solum_git.messaging import events
from solum_git.messaging import notifier
from solum_git.messaging import rpc
from solum_git.messaging import sender as sender_mod
from tests import helpers


def _conf(tmp_path, **groups):
    return helpers.make_conf(tmp_path, 'sqlite:///%s' % (tmp_path / 'db.sqlite'), **groups)


def test_every_event_is_named_once_under_the_solum_git_prefix():
    names = [value for key, value in vars(events).items()
             if key.isupper() and isinstance(value, str) and value.startswith('solum_git.')
             and key != 'PREFIX']
    assert len(names) == len(set(names)) == len(events.FIELDS)
    assert set(names) == set(events.FIELDS)
    assert set(events.STACK_STATUS_EVENTS.values()) <= set(events.FIELDS)


def test_no_payload_field_is_named_like_a_secret():
    for event, fields in events.FIELDS.items():
        for field in fields:
            assert not any(word in field for word in events.SECRET_WORDS), (event, field)


def test_a_payload_refuses_a_field_its_event_does_not_list():
    with pytest.raises(events.UnknownField, match='config'):
        events.payload(events.TRIGGER_CREATE, trigger_id='t', config={'secret': 's'})
    body = events.payload(events.TRIGGER_CREATE, trigger_id='t', type='webhook')
    assert body == {'trigger_id': 't', 'repo_id': None, 'project_id': None,
                    'type': 'webhook'}


def test_without_a_bus_nothing_is_queued_and_no_thread_starts(tmp_path):
    sender = sender_mod.Sender(_conf(tmp_path))
    assert not sender.casts and not sender.notifications
    sender.cast(lambda: ('t', None), 'stack_changed', stack_id=1)
    sender.notify(None, events.REPO_CREATE_END, {})
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
        emit = notifier.Events(sender)
        started = time.monotonic()
        for stack_id in range(100):
            client.notify(stack_id)
            emit.emit(None, events.PUSH_RECEIVED, push_id='p', refs=[])
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
    assert root.services.keys.notifier is root.services.repos.notifier
    plain.db.dispose()
    root.db.dispose()


def test_the_log_driver_needs_no_bus_and_messaging_without_a_url_sends_nothing(tmp_path):
    logged = sender_mod.Sender(_conf(tmp_path / 'a', oslo_messaging_notifications={
        'driver': ['log']}))
    assert logged.notifications and not logged.casts
    logged.notify(None, events.REPO_CREATE_END, events.payload(events.REPO_CREATE_END))
    logged.stop()
    assert logged.dropped == 0
    nowhere = sender_mod.Sender(_conf(tmp_path / 'b', oslo_messaging_notifications={
        'driver': ['messagingv2']}))
    assert not nowhere.notifications
