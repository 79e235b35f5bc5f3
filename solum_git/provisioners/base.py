"""What every provisioner does: make, check, repair and remove a tenant git server."""
import abc
from collections.abc import Iterable
import logging
import subprocess
from typing import Any

from oslo_config import cfg
from sqlalchemy import orm

from solum_git.common import gitssh
from solum_git.common import procs
from solum_git.common import states

LOG = logging.getLogger(__name__)
FLUSH_COMMAND = 'solum-flush'
FLUSH_TIMEOUT = 120


class Provisioner(abc.ABC):
    """One tenant git server per stack row.

    The engine calls these with the stack's row; they must be idempotent, since
    the engine re-runs them after any crash.
    """

    name: str | None = None
    # capability: the provisioner gives each server an HTTP port of its own
    # (reserve_http); otherwise the front listens on 443
    http_port_range = False
    # capability: the server's front speaks HTTPS with a certificate solum-git
    # makes for its address (tlscerts.py), sent with gitolite-admin
    serves_tls = False
    # capability: a server lives on the machine of the engine that made it (its
    # files, its processes): only engines of that machine may own its stack
    # (engine/ownership.py keeps one ring per host for such stacks)
    host_bound = False
    # capability: the engine makes the server's SSH host key before the first
    # create and keeps it in the database (stacks.ssh_host_private_key, never in
    # an API view); the driver hands that key to every server it builds, so a
    # server rebuilt from nothing answers with the key its clients pinned
    host_key_from_db = False

    def chooses_image(self) -> bool:
        """Whether a stack's ``image_id`` (a Glance image) picks its server's image."""
        return False

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.conf = conf

    def engine_host(self) -> str | None:
        """Where this engine's servers live, as ``stack_host`` names it (host_bound)."""
        return None

    def stack_host(self, stack: Any) -> str | None:
        """Where the stack's server lives (host_bound); None: anywhere."""
        return None

    def reserve(self, session: orm.Session, stack: Any) -> None:
        """Fill what is known before the server exists (e.g. a local port).

        Called in the transaction that creates the stack row; DB work only.
        """

    def reserve_http(self, session: orm.Session, stack: Any) -> None:
        """Give the stack its smart HTTP port (DB work only; see http_port_range)."""

    @abc.abstractmethod
    def create(self, stack: Any, settings: dict) -> None:
        """Start making the server; ``settings`` hold the bootstrap's inputs."""

    @abc.abstractmethod
    def check(self, stack: Any) -> 'ServerState':
        """Return a ``ServerState`` for the stack's server."""

    @abc.abstractmethod
    def delete(self, stack: Any) -> None:
        """Remove the server and everything on it."""

    def repair(self, stack: Any, settings: dict, deep: bool = False) -> None:
        """Put back what drifted outside gitolite (the engine's periodic check).

        ``deep``: an operator asked for a resync; redo the whole set-up.
        """

    def stop(self, stack: Any) -> bool:
        """Stop the server's processes on this machine until ``start`` (an operator's).

        True if something was running.
        """
        raise NotImplementedError('%s git servers are not stopped by solum-git'
                                  % self.name)

    def start(self, stack: Any) -> bool:
        """Start the server's processes again after ``stop``."""
        raise NotImplementedError('%s git servers are not started by solum-git'
                                  % self.name)

    def migrate_user(self, stack: Any) -> str:
        """Stop a server of a shared unix user; the name of its own user to be."""
        raise NotImplementedError('%s git servers have no unix user of solum-git\'s'
                                  % self.name)

    def servers(self, stack: Any) -> list[tuple[str, tuple[int, int | None] | None]]:
        """[(process name, (pid, start time) or None)] of the server on this machine."""
        return []

    # how often ``reap`` is worth calling between the engine's passes (None: at
    # its passes only): a server that died is started again this soon, not
    # after the poll
    reap_seconds: float | None = None

    def reap(self) -> Iterable[str]:
        """Called on every engine pass (cheap): uuids of stacks to look at now."""
        return ()

    def repo_path(self, stack: Any, repo_name: str) -> str | None:
        """The repo's directory when it is on this host for the engine to read; else None.

        None (the default): runs fetch the pushed code over SSH as the admin.
        """
        return None

    def flush(self, stack: Any) -> int | None:
        """Ask the server's hook to deliver its spooled push events now.

        The exit code of the server's ``solum-flush`` (0, or 3: some were
        rejected), None while the server cannot be reached yet. The default
        runs it over SSH as the admin, tethered: no ssh outlives the engine.
        """
        ssh = gitssh.Ssh.for_stack(stack)
        if ssh is None:
            return None
        try:
            done = subprocess.run(procs.tethered(ssh.command(FLUSH_COMMAND)),
                                  capture_output=True, text=True, timeout=FLUSH_TIMEOUT,
                                  stdin=subprocess.DEVNULL)
        finally:
            ssh.close()
        if done.returncode not in (0, 3):
            LOG.warning('stack %s: %s exited %d: %s', stack.uuid, FLUSH_COMMAND,
                        done.returncode, (done.stderr or done.stdout)[-500:])
        else:
            LOG.debug('stack %s: %s', stack.uuid, done.stdout.strip())
        return done.returncode

    def close(self) -> None:
        """The engine stops: release processes and clients."""


class ServerState:
    """What ``check`` found: a ``states.ServerStatus``, why, and where it answers."""

    def __init__(self, status: states.ServerStatus, reason: str | None = None,
                 ssh_host: str | None = None, ssh_port: int | None = None,
                 ssh_user: str | None = None, ssh_host_keys: str | None = None,
                 extra: dict | None = None) -> None:
        self.status = status
        self.reason = reason
        self.ssh_host = ssh_host
        self.ssh_port = ssh_port
        self.ssh_user = ssh_user
        self.ssh_host_keys = ssh_host_keys
        self.extra = extra or {}
