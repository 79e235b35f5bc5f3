"""What every sandbox driver does: say how one tenant command is started confined.

The local runner describes a command as a ``Job`` (argv, the run's work dir on
the host, the project's uid, the limits); the driver answers with a ``Launch``
(what ``Popen`` gets, and what to check around it). Starting, watching and
killing the process is the runner's (``pipelines/process.py``), so every driver
is supervised the same way.
"""
import abc
import os
import subprocess
from typing import Any, Iterable, Mapping, Optional, Sequence, Tuple

from oslo_config import cfg

# the reason's second half whenever a sandbox cannot start
HOW_TO_FIX = ('install bubblewrap and util-linux (apt-get install bubblewrap util-linux), '
              'or set [sandbox] driver = none (no isolation at all: only for a single '
              'trusted developer)')

# where a job's work dir appears inside a sandbox that has its own mount view
WORK = '/work'
SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
MIB = 1024 * 1024


class Unavailable(Exception):
    """The sandbox cannot run commands here; the text says why and how to fix it."""


class Limits:
    """One command's limits; 0 is no limit. Wall time and log size are the runner's."""

    def __init__(self, cpu_seconds: int = 0, memory_mb: int = 0, max_processes: int = 0,
                 max_file_size_mb: int = 0, max_disk_mb: int = 0, max_open_files: int = 4096,
                 tmp_size_mb: int = 256):
        self.cpu_seconds = cpu_seconds
        self.memory_mb = memory_mb
        self.max_processes = max_processes
        self.max_file_size_mb = max_file_size_mb
        self.max_disk_mb = max_disk_mb
        self.max_open_files = max_open_files
        self.tmp_size_mb = tmp_size_mb

    @classmethod
    def from_conf(cls, opts: Any, app: bool = False) -> 'Limits':
        """``opts`` is ``conf.sandbox``; an app has ``app_cpu_seconds`` instead."""
        return cls(cpu_seconds=opts.app_cpu_seconds if app else opts.cpu_seconds,
                   memory_mb=opts.memory_mb, max_processes=opts.max_processes,
                   max_file_size_mb=opts.max_file_size_mb, max_disk_mb=opts.max_disk_mb,
                   max_open_files=opts.max_open_files, tmp_size_mb=opts.tmp_size_mb)


class Job:
    """One tenant command.

    ``box`` is the host directory the command may write (its checkout in
    ``box/src``, its ``$HOME`` in ``box/home``); ``uid`` the project's own;
    ``env`` the variables of solum-git's contract (``SOLUM_GIT_*``, ``PORT``).
    """

    def __init__(self, name: str, argv: Sequence[str], box: str, env: Mapping[str, str], uid: int,
                 network: bool, limits: Limits, cwd: str = 'src'):
        self.name = name
        self.argv = list(argv)
        self.box = box
        self.env = dict(env)
        self.uid = uid
        self.network = network
        self.limits = limits
        self.cwd = cwd


class Launch:
    """How to start one job, and the checks around ``Popen``.

    The runner calls ``spawned(proc)`` right after ``Popen``, ``started()``
    once the process has exited, and ``finish()`` always, last.
    """

    def __init__(self, argv: Sequence[str], env: dict[str, str], cwd: str,
                 pass_fds: Iterable[int] = ()):
        self.argv = argv
        self.env = env
        self.cwd = cwd
        self.pass_fds = tuple(pass_fds)
        self._child_fds = list(pass_fds)

    def close_child_fds(self) -> None:
        """The child's ends of pipes and files, once Popen has passed them (or failed)."""
        close_fds(self._child_fds)
        self._child_fds = []

    def spawned(self, proc: subprocess.Popen) -> None:
        """The process exists: close the child's ends, put it where it belongs."""
        self.close_child_fds()

    def kill(self) -> bool:
        """SIGKILL the whole sandbox if there is one (False: kill the process group)."""
        return False

    def started(self, returncode: int) -> bool:
        """After exit: did the command itself run (False: the sandbox failed first)?"""
        return True

    def finish(self) -> list:
        """Release what the launch holds; return notes for the log (limits hit)."""
        return []


class Sandbox(abc.ABC):
    """A way to run tenant commands (entry point name == ``[sandbox] driver``)."""

    name: Optional[str] = None
    # the command sees only its own work dir and the system (read-only), runs as
    # an unprivileged uid with no capabilities, and every process of it dies with it
    isolated = False

    def __init__(self, conf: cfg.ConfigOpts):
        self.conf = conf

    def check(self) -> None:
        """Raise ``Unavailable`` if commands cannot be started here (cheap)."""

    def hand_over(self, box: str, uid: int) -> None:
        """Make ``box`` (checked out by solum-git) the job's: owned by ``uid``."""

    @abc.abstractmethod
    def launch(self, job: Job) -> Launch:
        """How to start ``job``; may raise ``Unavailable``."""

    def describe(self, job: Job) -> str:
        """One line for the run log: how the command is confined."""
        return 'sandbox %s' % self.name


def close_fds(fds: Iterable[int]) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


def box_paths(box: str) -> Tuple[str, str]:
    """The checkout and $HOME inside a job's box."""
    return os.path.join(box, 'src'), os.path.join(box, 'home')
