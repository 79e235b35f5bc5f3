"""What a backup store does: keep bundle files per stack, give them back, forget them.

Bundles travel as streams (``put`` reads one, ``open`` gives one): a bundle
never sits whole in the engine's memory.
"""
import abc


class StoreError(Exception):
    """The store failed an operation; the text says why."""


class Store(abc.ABC):
    """Bundles of one stack's repos, by location (``<repo uuid>/<chain>/<name>``).

    ``keeps_backups``: False for a store that keeps nothing (``none``); the
    engine then takes no backups and a lost repo cannot be restored.
    """

    name = None
    keeps_backups = True

    def __init__(self, conf):
        self.conf = conf

    @abc.abstractmethod
    def put(self, stack_uuid, location, stream, size):
        """Store ``size`` bytes read from ``stream`` (``read(n)``) under ``location``."""

    @abc.abstractmethod
    def put_bytes(self, stack_uuid, location, data):
        """A small object (a refs file, the pointer to the latest backup)."""

    @abc.abstractmethod
    def open(self, stack_uuid, location):
        """A context manager: a readable stream (``read(n)``) of the object."""

    @abc.abstractmethod
    def delete(self, stack_uuid, location):
        """Forget ``location`` (no error if it is gone already)."""

    @abc.abstractmethod
    def list(self, stack_uuid):
        """Every location the store holds for the stack."""

    @abc.abstractmethod
    def forget_stack(self, stack_uuid):
        """Forget the stack's place in the store (its container, its directory)
        once it holds nothing."""

    def close(self):
        """Release connections."""


def copy(stream, write, size, chunk=1 << 20):
    """``size`` bytes from ``stream`` to ``write``; fewer if the stream ends first."""
    done = 0
    while done < size:
        data = stream.read(min(chunk, size - done))
        if not data:
            break
        write(data)
        done += len(data)
    return done
