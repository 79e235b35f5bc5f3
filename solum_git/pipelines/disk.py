"""The disk a command's work dir takes, measured now and then against its limit."""
import os
import stat
import time
from typing import Union

# an entry costs at least a block: a million empty files are not free
MIN_ENTRY = 4096


def usage(top: Union[str, os.DirEntry]) -> int:
    """Bytes under ``top`` (allocated blocks, symlinks not followed)."""
    total = 0
    pending = [top]
    while pending:
        path = pending.pop()
        try:
            entries = list(_scan(path))
        except FileNotFoundError:
            continue
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            total += max(st.st_blocks * 512, MIN_ENTRY)
            if stat.S_ISDIR(st.st_mode):
                pending.append(entry.path)
    return total


def _scan(path):
    try:
        with os.scandir(path) as it:
            return list(it)
    except PermissionError:
        # not root: the command made a dir of its own (our uid) unreadable; undo it
        st = os.lstat(path)
        if st.st_uid != os.geteuid() or not stat.S_ISDIR(st.st_mode):
            raise
        os.chmod(path, stat.S_IMODE(st.st_mode) | stat.S_IRWXU)
        with os.scandir(path) as it:
            return list(it)


class Meter:
    """``over()`` is True once the tree passed ``limit`` bytes (0: never).

    It measures at most every ``interval`` seconds, and never more often than
    ten times the last measure took (a huge tree costs a tenth of a core).
    """

    def __init__(self, top: str, limit: int, interval: float):
        self.top = top
        self.limit = limit
        self.interval = interval
        self.used = 0
        self._next = time.monotonic()  # a checkout already too big is caught at once

    def over(self) -> bool:
        if not self.limit:
            return False
        now = time.monotonic()
        if now < self._next:
            return False
        try:
            self.used = usage(self.top)
        except OSError:
            # unmeasurable is over: fail closed
            self.used = self.limit + 1
        took = time.monotonic() - now
        self._next = time.monotonic() + max(self.interval, 10 * took)
        return self.used > self.limit
