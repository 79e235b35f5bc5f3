"""A memory and a pids cgroup (v1) per sandboxed command, when the service is root.

rlimits bound each process; a cgroup bounds the command as a whole (a fork
bomb of small processes, page cache, its /tmp), which is what a host needs.
"""
import errno
import logging
import os
import time
import uuid
from typing import Dict, Tuple

LOG = logging.getLogger(__name__)

PARENT = 'solum-git'
CONTROLLERS = ('memory', 'pids')
SWEEP_AGE = 300


class Hierarchy:
    """The v1 hierarchies under ``root`` (``/sys/fs/cgroup``)."""

    def __init__(self, root: str):
        self.root = root

    def _dir(self, controller, *names):
        return os.path.join(self.root, controller, PARENT, *names)

    def available(self) -> bool:
        """Root, and both controllers mounted (v1) and writable."""
        if os.geteuid() != 0:
            return False
        return all(os.path.isfile(os.path.join(self.root, c, 'cgroup.procs'))
                   and os.access(os.path.join(self.root, c), os.W_OK)
                   for c in CONTROLLERS)

    def create(self, memory_bytes: int, pids: int) -> 'Cgroup':
        name = uuid.uuid4().hex
        dirs = {}
        try:
            for controller in CONTROLLERS:
                os.makedirs(self._dir(controller), exist_ok=True)
                path = self._dir(controller, name)
                os.mkdir(path, 0o755)
                dirs[controller] = path
            group = Cgroup(dirs)
            if memory_bytes:
                group.write('memory', 'memory.limit_in_bytes', memory_bytes)
                # no swapping around the limit where swap is accounted
                if os.path.exists(os.path.join(dirs['memory'],
                                               'memory.memsw.limit_in_bytes')):
                    group.write('memory', 'memory.memsw.limit_in_bytes', memory_bytes)
            if pids:
                group.write('pids', 'pids.max', pids)
            return group
        except OSError:
            Cgroup(dirs).remove(timeout=0)
            raise

    def sweep(self, min_age: float = SWEEP_AGE) -> None:
        """Remove the empty cgroups of commands whose engine died.

        Only old ones: another engine's cgroup is empty between its creation and
        the moment its command joins it.
        """
        for controller in CONTROLLERS:
            try:
                names = os.listdir(self._dir(controller))
            except OSError:
                continue
            for name in names:
                path = self._dir(controller, name)
                try:
                    if time.time() - os.stat(path).st_mtime > min_age:
                        os.rmdir(path)
                except OSError:
                    pass  # still has processes, or not a cgroup of ours


class Cgroup:
    def __init__(self, dirs: Dict[str, str]):
        self.dirs = dirs

    def write(self, controller: str, name: str, value: object) -> None:
        with open(os.path.join(self.dirs[controller], name), 'w') as f:
            f.write(str(value))

    def read(self, controller: str, name: str) -> str:
        try:
            with open(os.path.join(self.dirs[controller], name)) as f:
                return f.read()
        except (OSError, KeyError):
            return ''

    def add(self, pid: int) -> None:
        for controller in self.dirs:
            self.write(controller, 'cgroup.procs', pid)

    def counters(self) -> Tuple[int, int]:
        """(processes the OOM killer took, forks refused at pids.max)."""
        oom = _field(self.read('memory', 'memory.oom_control'), 'oom_kill')
        if oom is None:  # kernels before 4.13: only "the limit was reached"
            oom = 1 if (self.read('memory', 'memory.failcnt').strip() or '0') != '0' else 0
        return oom, _field(self.read('pids', 'pids.events'), 'max') or 0

    def remove(self, timeout: float = 2.0) -> None:
        """rmdir each; the last processes of a killed sandbox may take a moment."""
        deadline = time.monotonic() + timeout
        for path in self.dirs.values():
            while True:
                try:
                    os.rmdir(path)
                    break
                except FileNotFoundError:
                    break
                except OSError as e:
                    if e.errno != errno.EBUSY or time.monotonic() > deadline:
                        LOG.warning('cannot remove cgroup %s: %s', path, e)
                        break
                    time.sleep(0.002)


def _field(text, key):
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == key:
            return int(parts[1])
    return None
