"""The API's HTTP server: gunicorn, ``[api] workers`` processes of ``[api] threads``.

gunicorn (PyPI, pure Python: nothing to compile, unlike uwsgi) pre-forks
workers that share one listening socket, speaks HTTP/1.1 with keep-alive
(the ``gthread`` worker), decodes chunked request bodies and listens with a
queue of ``[api] backlog``. The socket is bound by solum-git-api itself
(``bind``) and handed over as a file descriptor, so a port in use fails in
that process, in one line, before anything forks. The arbiter builds the app
once, then listens and forks the workers: the port takes connections only
when workers are seconds away (and each worker drops the arbiter's DB pool).

Proxy headers are oslo.middleware's business (``http_proxy_to_wsgi``, off
unless ``[oslo_middleware] enable_proxy_headers_parsing``): gunicorn's own
trust of X-Forwarded-* from loopback is switched off.
"""
import ctypes
import logging
import os
import signal
import socket

from gunicorn.app import base as gunicorn_base
from gunicorn import glogging

LOG = logging.getLogger(__name__)

# a worker whose main loop stops answering for this long is replaced
WORKER_TIMEOUT = 60
# SIGTERM: requests in flight get this long to finish
GRACEFUL_SECONDS = 10
_PR_SET_PDEATHSIG = 1


class ListenError(Exception):
    pass


def die_with_parent(parent):
    """SIGKILL from the kernel when ``parent`` (the forking thread) dies: kill -9 of
    solum-git-api takes its arbiter, and the arbiter its workers, down at once."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:      # it died before prctl
        os._exit(1)


def bind(host, port):
    """The API's socket (IPv4 or IPv6 by the address), bound, inheritable.

    gunicorn's arbiter calls ``listen`` once the app is built.
    """
    family = socket.AF_INET6 if ':' in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise ListenError('cannot listen on %s port %d: %s' % (host, port, e.strerror))
    sock.set_inheritable(True)
    return sock


class AccessLog(glogging.Logger):
    """Each request's line through oslo.log, in the thread that served it: the
    request's context (request ids, user, project) is in it."""

    def access(self, resp, req, environ, request_time):
        query = environ.get('QUERY_STRING')
        LOG.debug('%s "%s %s%s" %s %.3fs', environ.get('REMOTE_ADDR', '-'),
                  environ.get('REQUEST_METHOD'), environ.get('PATH_INFO', ''),
                  '?' + query if query else '', resp.status, request_time.total_seconds())


def options(conf, sock):
    """gunicorn's settings from ours (``[api]``)."""
    return {
        'bind': ['fd://%d' % sock.fileno()],
        'workers': conf.api.workers,
        'worker_class': 'gthread',
        'threads': conf.api.threads,
        'backlog': conf.api.backlog,
        'keepalive': conf.api.keepalive,
        'timeout': WORKER_TIMEOUT,
        'graceful_timeout': GRACEFUL_SECONDS,
        'preload_app': True,              # built once; listen only then
        'forwarded_allow_ips': '',        # http_proxy_to_wsgi decides
        'secure_scheme_headers': {},
        'proxy_allow_ips': '',
        'control_socket_disable': True,   # one per user home: instances would share it
        'accesslog': None,
        'logger_class': AccessLog,
        'errorlog': '-',
        'loglevel': 'debug' if conf.debug else 'info',
        'proc_name': 'solum-git-api',
    }


class Server(gunicorn_base.BaseApplication):
    """gunicorn run from our code on the composition root ``build()`` returns."""

    def __init__(self, settings, build):
        self._settings = settings
        self._build = build
        self._root = None
        super().__init__()

    def load_config(self):
        for key, value in self._settings.items():
            self.cfg.set(key, value)
        self.cfg.set('post_fork', self._post_fork)

    def load(self):
        self._root = self._build()
        return self._root.wsgi_app()

    def _post_fork(self, arbiter, worker):
        die_with_parent(arbiter.pid)
        # the arbiter's connections are not the worker's to use (nor to close)
        self._root.db.after_fork()


def serve(conf, sock, build):
    """Run gunicorn's arbiter on ``sock`` until it is told to stop (SIGTERM)."""
    Server(options(conf, sock), build).run()
