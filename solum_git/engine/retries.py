"""When a repo in ERROR is tried on its server again: capped exponential backoff.

Kept in memory by each engine: after a restart (or on another engine) every
repo in ERROR is due at once, then backs off again if it still fails. A new
default branch is a new attempt, due at once.
"""
import threading
import typing

FIRST_DELAY = 2.0
MAX_DELAY = 60.0


class RepoRetries:
    def __init__(self, first: float = FIRST_DELAY, most: float = MAX_DELAY):
        self.first = first
        self.most = most
        self._lock = threading.Lock()
        self._state: dict[int, tuple] = {}  # repo id -> (failures, not before, branch tried)

    def due(self, repo_id: int, branch: str, now: float) -> bool:
        with self._lock:
            state = self._state.get(repo_id)
        return state is None or state[2] != branch or now >= state[1]

    def failed(self, repo_id: int, branch: str, now: float) -> float:
        """Record one more failure; the time of the next try."""
        with self._lock:
            failures = self._state.get(repo_id, (0, 0.0, None))[0] + 1
            when = now + min(self.most, self.first * 2 ** (failures - 1))
            self._state[repo_id] = (failures, when, branch)
        return when

    def succeeded(self, repo_id: int) -> None:
        with self._lock:
            self._state.pop(repo_id, None)

    def next_try(self, repo_ids: typing.Iterable[int], now: float) -> typing.Optional[float]:
        """The earliest time one of ``repo_ids`` is due (``now`` for one never
        tried); None for none."""
        with self._lock:
            times = [self._state[i][1] if i in self._state else now for i in repo_ids]
        return min(times) if times else None
