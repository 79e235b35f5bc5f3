"""One thread per process that sends casts and notifications, so requests never wait.

A request hands its message to a bounded queue and goes on; this thread
sends it with ``[messaging] send_retries`` connection retries, then drops it
(logged): the database has the change, the engines' poll finds it. After a
failure the bus counts as down for ``DOWN_SECONDS``: what comes meanwhile is
dropped without a try, so a dead bus costs a few seconds per
``DOWN_SECONDS``, not per message, and the queue never backs up. The
transports are made in the thread, after any fork (the API's gunicorn
workers are forked from an arbiter that built this object), one set per pid.
"""
import logging
import os
import queue
import socket
import threading
import time
from typing import Any, Callable, Dict, Optional, Tuple


from solum_git.messaging import oslo_messaging

LOG = logging.getLogger(__name__)

_STOP = object()
# after a failed send, messages are dropped without a try for this long
DOWN_SECONDS = 10.0


def transport_url(conf) -> Optional[str]:
    """``[DEFAULT] transport_url``, or None where no message bus is set."""
    return conf.transport_url or None


def notification_url(conf) -> Optional[str]:
    return conf.oslo_messaging_notifications.transport_url or transport_url(conf)


def notifications_enabled(conf) -> bool:
    drivers = [d for d in conf.oslo_messaging_notifications.driver if d != 'noop']
    if any(d.startswith('messaging') for d in drivers) and notification_url(conf) is None:
        LOG.error('[oslo_messaging_notifications] driver %s needs a transport_url '
                  '(there or in [DEFAULT]): no notifications are sent', ', '.join(drivers))
        return False
    return bool(drivers)


class Sender:
    """Sends from a thread of its own; ``cast`` and ``notify`` never block."""

    def __init__(self, conf):
        self.conf = conf
        self.casts = transport_url(conf) is not None
        self.notifications = notifications_enabled(conf)
        self.dropped = 0
        self._lock = threading.Lock()
        self._pid: Optional[int] = None
        self._queue: Optional[queue.Queue] = None
        self._thread: Optional[threading.Thread] = None
        self._client: Any = None
        self._notifier: Any = None
        self._transports: list = []

    # -- the callers' side --------------------------------------------------------
    def cast(self, route: Callable[[], Tuple[str, Optional[str]]], method: str,
             **kwargs: Any) -> None:
        """``route()``, called in the thread: (topic, server or None: every
        server of the topic)."""
        if self.casts:
            self._put(('cast', route, method, kwargs))

    def notify(self, context: Any, event: str, payload: Dict[str, Any]) -> None:
        if self.notifications:
            self._put(('notify', context, event, payload))

    def _put(self, item):
        q = self._ensure_thread()
        try:
            q.put_nowait(item)
        except queue.Full:
            with self._lock:
                self.dropped += 1
                dropped = self.dropped
            if dropped == 1 or dropped % 100 == 0:
                LOG.warning('message bus: %d messages dropped (queue of %d full); '
                            'the engines\' poll applies the changes', dropped,
                            self.conf.messaging.queue_size)

    def _ensure_thread(self) -> queue.Queue:
        pid = os.getpid()
        with self._lock:
            if self._pid != pid or self._queue is None:
                # a fork: the parent's thread and connections are not ours
                self._pid = pid
                self._client = self._notifier = None
                self._transports = []
                self._queue = queue.Queue(self.conf.messaging.queue_size)
                self._thread = threading.Thread(target=self._loop, args=(self._queue,),
                                                daemon=True, name='solum-git-sender')
                self._thread.start()
            return self._queue

    def stop(self, timeout: float = 5) -> None:
        """Send what is queued (for at most ``timeout`` seconds), then close."""
        with self._lock:
            q, thread = self._queue, self._thread
            mine = self._pid == os.getpid()
        if q is None or thread is None or not mine:
            return
        try:
            q.put(_STOP, timeout=timeout)
        except queue.Full:
            pass
        thread.join(timeout)

    # -- the thread ----------------------------------------------------------------
    def _loop(self, q):
        down_until = 0.0
        try:
            while True:
                item = q.get()
                if item is _STOP:
                    return
                if time.monotonic() < down_until:
                    self._drop(item, 'the bus was down moments ago')
                    continue
                try:
                    self._send(item)
                except Exception as e:
                    down_until = time.monotonic() + DOWN_SECONDS
                    with self._lock:
                        self.dropped += 1
                    LOG.warning('message bus: %s %s not sent (%s); the next %.0f s of '
                                'messages are dropped, the engines\' poll applies the '
                                'changes', item[0], _name(item), e, DOWN_SECONDS)
        finally:
            for transport in self._transports:
                try:
                    transport.cleanup()
                except Exception:
                    LOG.debug('message bus: cleanup failed', exc_info=True)

    def _drop(self, item, why):
        with self._lock:
            self.dropped += 1
        LOG.debug('message bus: %s %s dropped: %s', item[0], _name(item), why)

    def _send(self, item):
        retry = self.conf.messaging.send_retries
        if item[0] == 'cast':
            _, route, method, kwargs = item
            topic, server = route()
            if self._client is None:
                transport = oslo_messaging.get_rpc_transport(self.conf)
                self._transports.append(transport)
                self._client = oslo_messaging.get_rpc_client(
                    transport, oslo_messaging.Target(topic=topic), retry=retry)
            # no server named: every engine of the topic hears it (fanout) and
            # the stack's owner on the ring acts; one engine taken at random
            # might not own the stack and the owner would wait for its poll.
            # A server named: the stack's owner alone (rpc.py)
            self._client.prepare(topic=topic, server=server,
                                 fanout=server is None).cast({}, method, **kwargs)
        else:
            _, context, event, payload = item
            if self._notifier is None:
                # drivers that use no bus (log) still need a transport object
                transport = oslo_messaging.get_notification_transport(
                    self.conf, url=notification_url(self.conf) or 'fake://')
                self._transports.append(transport)
                self._notifier = oslo_messaging.Notifier(
                    transport, publisher_id='solum-git.%s' % socket.gethostname(),
                    retry=retry)
            self._notifier.info(context, event, payload)


def _name(item):
    """The method of a cast, the event of a notification."""
    return item[2]
