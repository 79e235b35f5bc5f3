"""oslo.messaging: casts from the API to the engines, notifications to the world.

Every intent is in the database before anything is sent: a cast only cuts an
engine's wait short, a notification only tells. Nothing here blocks a request
(``sender.Sender`` sends from a thread of its own) and nothing is lost when
the bus is down (the engines' poll finds the work).

Import ``oslo_messaging`` through this package: oslo.service (which
oslo.messaging imports) must be told to use threads, not eventlet, first.
"""
import sys
import warnings

# oslo.service requires eventlet, and futurist imports it whenever it is
# installed: most of oslo.messaging's import time (~1 s of CPU here) and a
# deprecation warning on stderr, in every process, for a library we never use
# (oslo.messaging runs on threads below). A process that already has it keeps it.
sys.modules.setdefault('eventlet', None)  # type: ignore[arg-type]

from oslo_service import backend  # noqa: E402
from oslo_service.backend import exceptions as backend_exceptions  # noqa: E402

# where eventlet was imported before us, its warnings are not ours to show
warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')
warnings.filterwarnings('ignore', message='eventletutils module is deprecated')
try:
    backend.init_backend(backend.BackendType.THREADING)
except backend_exceptions.BackendAlreadySelected:
    pass  # the process chose before us (a test runner, an embedding service)

import oslo_messaging  # noqa: E402
from oslo_messaging import opts as _opts  # noqa: E402,F401  (oslo_messaging.opts)

import importlib  # noqa: E402


def _extra_opts():
    """Groups oslo.messaging reads from the conf it is given but registers only
    on cfg.CONF (as its own ConfFixture does, conf/messaging.py registers them on
    ours): [oslo_messaging_metrics] and, from 18 on, [oslo_messaging_tracing]."""
    found = []
    for module, name in (('oslo_messaging._metrics.client', 'oslo_messaging_metrics'),
                         ('oslo_messaging._tracing.client', 'oslo_messaging_tracing')):
        try:
            found.append((name, list(getattr(importlib.import_module(module), name))))
        except (ImportError, AttributeError):  # a version without them
            continue
    return found


EXTRA_OPTS = _extra_opts()

__all__ = ['oslo_messaging', 'EXTRA_OPTS']
