"""What every provisioner does: make, check, repair and remove a tenant git server."""
import abc

# ServerState.status values
BUILDING, ACTIVE, ERROR = 'BUILDING', 'ACTIVE', 'ERROR'


class Provisioner(abc.ABC):
    """One tenant git server per stack row.

    The engine calls these with the stack's row; they must be idempotent, since
    the engine re-runs them after any crash.
    """

    name = None

    def __init__(self, conf):
        self.conf = conf

    def reserve(self, session, stack):
        """Fill what is known before the server exists (e.g. a local port).

        Called in the transaction that creates the stack row; DB work only.
        """

    @abc.abstractmethod
    def create(self, stack, settings):
        """Start making the server; ``settings`` hold the bootstrap's inputs."""

    @abc.abstractmethod
    def check(self, stack):
        """Return a ``ServerState`` for the stack's server."""

    @abc.abstractmethod
    def delete(self, stack):
        """Remove the server and everything on it."""

    def repair(self, stack, settings, deep=False):
        """Put back what drifted outside gitolite (the engine's periodic check).

        ``deep``: an operator asked for a resync; redo the whole set-up.
        """

    def reap(self):
        """Called on every engine pass (cheap): uuids of stacks to look at now."""
        return ()

    def close(self):
        """The engine stops: release processes and clients."""


class ServerState:
    def __init__(self, status, reason=None, ssh_host=None, ssh_port=None,
                 ssh_user=None, ssh_host_keys=None, extra=None):
        self.status = status
        self.reason = reason
        self.ssh_host = ssh_host
        self.ssh_port = ssh_port
        self.ssh_user = ssh_user
        self.ssh_host_keys = ssh_host_keys
        self.extra = extra or {}
