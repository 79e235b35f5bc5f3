"""Casts from the API to the engines, and the engines' RPC server.

The API tells "stack X changed" (a repo, a member, a key, a push whose runs
are queued...: every change is one of a stack); the engine that gets it
calls ``engine.notify``, as if the API were in its process. A cast goes to
``owner_topic(stack_id)``: with ``[coordination] backend_url``, to the
server of the engine the ring makes the stack's owner (engine/ownership.py's
``Owners``: the same rings as the engines'); without it, or while the owner
is unknown (the backend away, the membership just changed, a stack not
placed yet), to the engines' shared topic as a fanout (every engine is told;
the owner acts, the others find it is not theirs). The router runs in the
sender's thread (sender.py), never in a request's.
"""
import functools
import logging
import threading
from typing import Any, Callable, Optional, Tuple


from solum_git.messaging import oslo_messaging
from solum_git.messaging import sender as sender_mod

LOG = logging.getLogger(__name__)

# the version of the engine's RPC interface (EngineEndpoint)
VERSION = '1.0'

# stack id -> (topic, server or None for every engine of the topic)
Router = Callable[[int], Tuple[str, Optional[str]]]


def router(conf, owners: Optional[Any] = None) -> Router:
    """``owners`` (ownership.Owners): the stack's owner's server on the
    ``[messaging] engine_topic``; else (or when it is unknown) every engine."""
    topic = conf.messaging.engine_topic

    def owner_topic(stack_id: int) -> Tuple[str, Optional[str]]:
        return topic, owners.owner(stack_id) if owners is not None else None
    return owner_topic


class EngineClient:
    """The engine handle of a process without the engine: a cast per change."""

    def __init__(self, sender: sender_mod.Sender, owner_topic: Router):
        self.sender = sender
        self.owner_topic = owner_topic

    def notify(self, stack_id: int, resync: bool = False) -> None:
        # where to is asked in the sender's thread: it may read the database
        # and the coordination backend
        self.sender.cast(functools.partial(self.owner_topic, stack_id), 'stack_changed',
                         stack_id=stack_id)


class Fanout:
    """Several engine handles told the same change (the pipe to the local
    engine and the casts to every engine)."""

    def __init__(self, *handles):
        self.handles = handles

    def notify(self, stack_id: int, resync: bool = False) -> None:
        for handle in self.handles:
            handle.notify(stack_id, resync=resync)


class EngineEndpoint:
    """What an engine answers on its topic."""

    target = oslo_messaging.Target(version=VERSION)

    def __init__(self, engine):
        self.engine = engine

    def stack_changed(self, ctxt, stack_id):
        if not isinstance(stack_id, int) or isinstance(stack_id, bool):
            LOG.warning('stack_changed: stack_id %r is not an integer; ignored', stack_id)
            return
        self.engine.notify(stack_id)


class EngineServer:
    """The engine's RPC server: the shared topic and its own server name
    (``engine_id``), on oslo.messaging's threading executor.

    Started from a thread of its own: with the bus down, oslo.messaging's
    start waits for a connection as long as it takes, and the engine must
    work meanwhile (its poll does).
    """

    def __init__(self, conf, engine):
        self.conf = conf
        self.engine = engine
        self._lock = threading.Lock()
        self._stopping = False
        self._transport = None
        self._server = None
        self._thread: Optional[threading.Thread] = None

    def start(self) -> 'EngineServer':
        self._thread = threading.Thread(target=self._start, daemon=True,
                                        name='solum-git-rpc-start')
        self._thread.start()
        return self

    def _start(self):
        transport = oslo_messaging.get_rpc_transport(self.conf)
        target = oslo_messaging.Target(topic=self.conf.messaging.engine_topic,
                                       server=self.engine.engine_id)
        server = oslo_messaging.get_rpc_server(
            transport, target, [EngineEndpoint(self.engine)], executor='threading')
        with self._lock:
            if self._stopping:
                transport.cleanup()
                return
            self._transport = transport
        try:
            server.start()
        except Exception:
            LOG.exception('engine %s: RPC server did not start; changes reach this '
                          'engine by its poll only', self.engine.engine_id)
            return
        with self._lock:
            self._server = server
            stopping = self._stopping
        if stopping:
            self._stop_server(server)
            return
        LOG.info('engine %s listening on topic %s', self.engine.engine_id,
                 self.conf.messaging.engine_topic)

    @property
    def listening(self) -> bool:
        with self._lock:
            return self._server is not None and not self._stopping

    def stop(self, timeout: float = 10) -> None:
        with self._lock:
            self._stopping = True
            server, transport = self._server, self._transport
        if server is not None:
            self._stop_server(server)
        elif transport is not None:
            # still connecting: the daemon thread is left to the process's exit
            LOG.info('engine %s: RPC server still waiting for the bus; abandoned',
                     self.engine.engine_id)

    def _stop_server(self, server):
        server.stop()
        server.wait()
        with self._lock:
            transport, self._transport, self._server = self._transport, None, None
        if transport is not None:
            transport.cleanup()
