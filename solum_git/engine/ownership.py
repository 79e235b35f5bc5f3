"""Which engine owns which stack: a tooz hash ring over the live engines.

Without ``[coordination] backend_url`` (``Solo``) an engine may take any stack
and the database lease alone keeps two engines off one stack, as with a single
engine. With it (``Cluster``), every engine joins one tooz group and beats every
``[coordination] heartbeat``; each keeps hash rings (``tooz.hashring``, as
Ironic spreads nodes over conductors) of the live members, and works only on
the stacks (and their runs) the ring gives it:

- a stack of a ``host_bound`` provisioner (local) is placed on the ring of the
  engines of its host only (its server's files and processes are there);
- any other stack (heat) on the ring of all engines.

A member is live while tooz hears its heartbeats (it is dropped after
``DEAD_AFTER`` heartbeats of silence), and, on this machine, while its process
exists (leases.known_dead: a kill -9 is seen at the next look, not after the
silence). A join or a death changes the rings, so stacks move at once; the
database stays the truth, and a stack's apply is guarded twice: a tooz lock per
stack, then the stack's lease row, which a dead member's leases no longer hold.

Outside the group, an API process asks ``Owners`` (through a ``Watcher`` of the
group, which never joins it) which engine the same rings give a stack, to cast
a change to that engine alone (messaging/rpc.py).
"""
import logging
import math
import os
import threading
import time
from typing import Any, Callable, Dict, Iterable, List, Optional, Set, Tuple
from urllib import parse

from tooz import coordination
from tooz import hashring

import sqlalchemy as sa

from solum_git.db import models
from solum_git.engine import leases

LOG = logging.getLogger(__name__)
GROUP = b'solum-git-engines'
# heartbeats of silence after which tooz drops a member
DEAD_AFTER = 3
# the partitions of a ring: 2**5 per member, Ironic's default exponent
PARTITIONS = 5
# tooz's option for how long a member lives without a heartbeat, per driver
_MEMBER_TIMEOUT = {'redis': ('membership_timeout', 'lock_timeout'),
                   'rediss': ('membership_timeout', 'lock_timeout'),
                   'file': ('timeout',)}


def backend_url(url: str, heartbeat: float) -> str:
    """The URL with the member (and lock) timeout of ``DEAD_AFTER`` heartbeats,
    unless the operator's URL sets it already. Redis and file take whole seconds."""
    parts = parse.urlsplit(url)
    query = parse.parse_qsl(parts.query, keep_blank_values=True)
    given = {k for k, _v in query}
    timeout = max(1, math.ceil(heartbeat * DEAD_AFTER))
    for name in _MEMBER_TIMEOUT.get(parts.scheme, ()):
        if name not in given:
            query.append((name, str(timeout)))
    return parse.urlunsplit(parts._replace(query=parse.urlencode(query)))


class Solo:
    """No coordination backend: every stack is this engine's to try."""

    coordinated = False

    def __init__(self, member_id: str):
        self.member_id = member_id

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def owns(self, key: str, host: Optional[str] = None) -> bool:
        return True

    def size(self) -> int:
        return 1

    def dead(self, holders: Iterable[Optional[str]]) -> List[str]:
        """Holders whose leases another engine may take now (leases.py)."""
        return leases.dead_among(holders)

    def lock(self, name: str) -> bool:
        return True

    def unlock(self, name: str) -> None:
        pass


class Cluster:
    """A member of the engines' tooz group, with the rings of its live members."""

    coordinated = True

    def __init__(self, url: str, member_id: str, heartbeat: float,
                 host: Optional[str] = None,
                 on_change: Optional[Callable[[], None]] = None):
        self.member_id = member_id
        self._on_change = on_change
        self.heartbeat = heartbeat
        self.host = host
        self._url = backend_url(url, heartbeat)
        self._coordinator = coordination.get_coordinator(self._url, member_id.encode())
        self._guard = threading.Lock()
        self._members: Dict[str, Optional[str]] = {}   # member id -> its host
        self._seen: Set[str] = set()   # every member id seen live since the start
        self._rings: Dict[Optional[str], hashring.HashRing] = {}
        self._locks: Dict[str, Any] = {}
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    # -- membership ---------------------------------------------------------------
    def start(self) -> None:
        self._coordinator.start(start_heart=False)
        self._create_group()
        self._join()
        self.refresh()
        self._thread = threading.Thread(target=self._loop, daemon=True,
                                        name='solum-git-coordination')
        self._thread.start()
        LOG.info('engine %s joined the engines\' group (%d live)', self.member_id,
                 len(self._members))

    def _create_group(self) -> None:
        try:
            self._coordinator.create_group(GROUP).get()
        except coordination.GroupAlreadyExist:
            pass

    def _join(self) -> None:
        capabilities = {'host': self.host}
        try:
            self._coordinator.join_group(GROUP, capabilities).get()
        except coordination.MemberAlreadyExist:
            pass
        self._coordinator.heartbeat()

    def stop(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        with self._guard:
            held, self._locks = list(self._locks.values()), {}
        for lock in held:
            try:
                lock.release()
            except Exception:
                LOG.debug('lock release at stop failed', exc_info=True)
        try:
            self._coordinator.leave_group(GROUP).get()
        except coordination.ToozError:
            LOG.debug('leaving the group failed', exc_info=True)
        try:
            self._coordinator.stop()
        except coordination.ToozError:
            LOG.debug('stopping the coordinator failed', exc_info=True)

    def _loop(self) -> None:
        while not self._stop.wait(self.heartbeat):
            try:
                self._coordinator.heartbeat()
                self.refresh()
            except Exception as e:
                # the backend is away: the rings stay as they were; the other
                # engines see this one dead after DEAD_AFTER beats and take over
                LOG.warning('coordination backend: %s', e)

    def refresh(self) -> Dict[str, Optional[str]]:
        """The live members now (tooz's, less those of this machine that died)."""
        try:
            found = self._coordinator.get_members_with_capabilities(GROUP).get()
        except coordination.GroupNotCreated:
            # the backend lost its data (a redis restarted empty): make it again
            LOG.warning('the engines\' group is gone from the backend; joining anew')
            self._create_group()
            self._join()
            found = self._coordinator.get_members_with_capabilities(GROUP).get()
        members = _live(found)
        if self.member_id not in members:
            # dropped by the others (a pause longer than DEAD_AFTER beats): back in
            LOG.warning('engine %s was out of the group; joining again', self.member_id)
            self._join()
            members[self.member_id] = self.host
        changed = False
        with self._guard:
            self._seen.update(members)
            if members != self._members:
                joined = sorted(set(members) - set(self._members))
                left = sorted(set(self._members) - set(members))
                if self._members:
                    LOG.info('engines joined: %s; left: %s; %d live',
                             ', '.join(joined) or '-', ', '.join(left) or '-',
                             len(members))
                self._members = members
                self._rings = _rings(members)
                changed = True
            members = dict(self._members)
        if changed and self._on_change is not None:
            # stacks moved: the workers look now, not at their next poll
            self._on_change()
        return members

    def members(self) -> Dict[str, Optional[str]]:
        with self._guard:
            return dict(self._members)

    # -- ownership ----------------------------------------------------------------
    def owner(self, key: str, host: Optional[str] = None) -> Optional[str]:
        """The member the ring gives ``key`` (a stack uuid); ``host``: its ring."""
        with self._guard:
            return _owner(self._rings, key, host)

    def owns(self, key: str, host: Optional[str] = None) -> bool:
        return self.owner(key, host) == self.member_id

    def size(self) -> int:
        """How many engines are live."""
        with self._guard:
            return max(1, len(self._members))

    def dead(self, holders: Iterable[Optional[str]]) -> List[str]:
        """Holders that were live members and are not any more (looked up again
        before judging), and those of this machine whose process is gone."""
        holders = {h for h in holders if h}
        live = self.members()
        if holders - set(live):
            # a holder may have joined since the last look: ask the backend now
            try:
                live = self.refresh()
            except Exception as e:
                # the backend is away: only deaths seen on this machine count
                LOG.warning('coordination backend: %s', e)
                return leases.dead_among(holders)
        with self._guard:
            # only engines once seen in the group: a holder that never joined
            # (solum-git-manage stopping a server) is judged as without a group
            gone = {h for h in holders if h not in live and h in self._seen}
        return sorted(gone | set(leases.dead_among(holders)))

    # -- locks ----------------------------------------------------------------------
    def lock(self, name: str) -> bool:
        """Take the tooz lock ``name`` without waiting; True if this engine holds it."""
        lock = self._coordinator.get_lock(name.encode())
        try:
            taken = lock.acquire(blocking=False)
        except Exception as e:
            # the backend is away: the stack's lease row alone guards the apply,
            # as with a single engine
            LOG.warning('lock %s: %s; the lease alone guards it', name, e)
            return True
        if taken:
            with self._guard:
                self._locks[name] = lock
        return bool(taken)

    def unlock(self, name: str) -> None:
        with self._guard:
            lock = self._locks.pop(name, None)
        if lock is not None:
            try:
                lock.release()
            except coordination.ToozError as e:
                # it runs out by itself (redis: its timeout; file: at exit)
                LOG.warning('lock %s: release failed: %s', name, e)


class Watcher:
    """The engines' group seen from outside it (the API): the rings, without joining.

    A thread of its own (one per process: the API's workers are forked after
    this object is built, so it starts at the first use) asks the backend for
    the members every ``heartbeat`` / 2; ``owner`` only reads what it found,
    so a backend that hangs or refuses (tooz retries for about a minute)
    never holds up a cast. ``owner`` is None, which means "tell every engine":
    before the first answer, when the last answer is older than 2 heartbeats
    (the backend away), and for ``DEAD_AFTER`` heartbeats after the
    membership changed (the engines see a change at their next look, a
    heartbeat apart; meanwhile the former owner and the new one must both hear).
    """

    def __init__(self, url: str, heartbeat: float):
        self.heartbeat = heartbeat
        self._url = backend_url(url, heartbeat)
        self._guard = threading.Lock()
        self._pid: Optional[int] = None
        self._stop = threading.Event()
        self._members: Optional[Dict[str, Optional[str]]] = None
        self._rings: Dict[Optional[str], hashring.HashRing] = {}
        self._fresh = -math.inf     # when the members were last read
        self._changed = -math.inf   # when they last changed

    def owner(self, key: str, host: Optional[str] = None) -> Optional[str]:
        """The member the engines' ring gives ``key``, when that is settled."""
        self._ensure_thread()
        with self._guard:
            now = time.monotonic()
            if self._members is None or now - self._fresh > 2 * self.heartbeat \
                    or now - self._changed < DEAD_AFTER * self.heartbeat:
                return None
            return _owner(self._rings, key, host)

    def _ensure_thread(self) -> None:
        with self._guard:
            if self._pid == os.getpid() or self._stop.is_set():
                return
            # first use in this process (a fork: the parent's thread is not ours)
            self._pid = os.getpid()
            self._members = None
        threading.Thread(target=self._loop, daemon=True,
                         name='solum-git-coordination-watch').start()

    def _loop(self) -> None:
        coordinator, away = None, False
        try:
            while not self._stop.is_set():
                try:
                    if coordinator is None:
                        coordinator = coordination.get_coordinator(
                            self._url, ('solum-git-api:%s' % leases.holder_id()).encode())
                        coordinator.start(start_heart=False)
                    try:
                        found = coordinator.get_members_with_capabilities(GROUP).get()
                    except coordination.GroupNotCreated:
                        found = {}      # no engine has joined yet
                except Exception as e:
                    if not away:
                        LOG.warning('coordination backend: %s; casts go to every engine '
                                    'until it answers', e)
                    away = True
                    _stop_quietly(coordinator)
                    coordinator = None
                    self._stop.wait(DEAD_AFTER * self.heartbeat)
                    continue
                if away:
                    LOG.info('coordination backend answers again')
                away = False
                self._found(_live(found))
                self._stop.wait(self.heartbeat / 2)
        finally:
            _stop_quietly(coordinator)

    def _found(self, members: Dict[str, Optional[str]]) -> None:
        with self._guard:
            now = time.monotonic()
            if members != self._members:
                if self._members is not None:
                    self._changed = now
                self._members, self._rings = members, _rings(members)
            self._fresh = now

    def stop(self) -> None:
        self._stop.set()


def _stop_quietly(coordinator: Any) -> None:
    """Stop a tooz coordinator (None: nothing to stop); a failure is only logged."""
    if coordinator is not None:
        try:
            coordinator.stop()
        except Exception:
            LOG.debug('stopping the coordinator failed', exc_info=True)
    return None


class Owners:
    """The owner of a stack, by its id, from outside the group (the API's casts).

    A stack's uuid and ring (its host, for a host_bound provisioner) are read
    from the database once and kept: neither changes in a stack's life.
    """

    KEEP = 10000    # stacks whose place is kept; then the table starts again

    def __init__(self, db: Any, provisioner: Any, watcher: Watcher):
        self.db = db
        self.provisioner = provisioner
        self.watcher = watcher
        self._places: Dict[int, Tuple[str, Optional[str]]] = {}

    def owner(self, stack_id: int) -> Optional[str]:
        """The engine the ring gives the stack now; None: unknown (tell every engine)."""
        place = self._places.get(stack_id)
        if place is None:
            place = self._place(stack_id)
            if place is None:
                return None
            if len(self._places) >= self.KEEP:
                self._places.clear()
            self._places[stack_id] = place
        return self.watcher.owner(*place)

    def _place(self, stack_id: int) -> Optional[Tuple[str, Optional[str]]]:
        stack = models.Stack
        try:
            with self.db.reader() as session:
                row = session.execute(sa.select(stack.uuid, stack.ssh_host).where(
                    stack.id == stack_id)).first()
        except Exception as e:
            LOG.warning('stack %s: its owner not looked up: %s', stack_id, e)
            return None
        if row is None:
            return None
        host = ring_of(self.provisioner, row)
        if self.provisioner.host_bound and host is None:
            return None         # not placed yet: every engine of any host hears
        return row.uuid, host

    def stop(self) -> None:
        self.watcher.stop()


def ring_of(provisioner: Any, stack: Any) -> Optional[str]:
    """The ring a stack is on: its host's (a host_bound provisioner), else all (None)."""
    return provisioner.stack_host(stack) if provisioner.host_bound else None


def _live(found: Dict[Any, Any]) -> Dict[str, Optional[str]]:
    """Member id -> host from tooz's answer, less the members of this machine that died."""
    members = {_text(m): (caps or {}).get('host') for m, caps in found.items()}
    for gone in leases.dead_among(members):
        members.pop(gone, None)
    return members


def _owner(rings: Dict[Optional[str], hashring.HashRing], key: str,
           host: Optional[str]) -> Optional[str]:
    """The member the ring of ``host`` gives ``key``; None if that ring is empty."""
    ring = rings.get(host)
    if ring is None:
        return None
    return next(iter(ring.get_nodes(key.encode())))


def _text(member: Any) -> str:
    return member.decode() if isinstance(member, bytes) else str(member)


def _rings(members: Dict[str, Optional[str]]) -> Dict[Optional[str], hashring.HashRing]:
    """One ring of all members (key None) and one per host of the members there."""
    rings: Dict[Optional[str], hashring.HashRing] = {}
    by_host: Dict[Optional[str], Set[str]] = {None: set(members)}
    for member, host in members.items():
        if host is not None:
            by_host.setdefault(host, set()).add(member)
    for host, nodes in by_host.items():
        if nodes:
            rings[host] = hashring.HashRing(nodes, partitions=2 ** PARTITIONS)
    return rings


def load(conf: Any, member_id: str, host: Optional[str] = None,
         on_change: Optional[Callable[[], None]] = None) -> Any:
    """``Cluster`` when ``[coordination] backend_url`` is set, else ``Solo``.

    ``on_change``: called when the rings change (stacks moved).
    """
    url = conf.coordination.backend_url
    if not url:
        return Solo(member_id)
    return Cluster(url, member_id, conf.coordination.heartbeat, host=host,
                   on_change=on_change)


def owners(conf: Any, db: Any, provisioner: Any) -> Optional[Owners]:
    """Who owns a stack, seen from outside the group; None without a backend."""
    url = conf.coordination.backend_url
    if not url:
        return None
    return Owners(db, provisioner, Watcher(url, conf.coordination.heartbeat))
