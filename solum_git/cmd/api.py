"""solum-git-api: the REST API (and, by default, the engine) in one process."""
import signal
import socketserver
import sys
import threading
from wsgiref import simple_server

from oslo_log import log

from solum_git import bootstrap
from solum_git import conf as conf_pkg

LOG = log.getLogger(__name__)


class _Handler(simple_server.WSGIRequestHandler):
    def log_message(self, format, *args):
        LOG.debug('%s %s', self.address_string(), format % args)


class ThreadingWSGIServer(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


def make_server(host, port, app):
    server_class = ThreadingWSGIServer
    if ':' in host:
        import socket

        class _V6(ThreadingWSGIServer):
            address_family = socket.AF_INET6
        server_class = _V6
    return simple_server.make_server(host, port, app, server_class=server_class,
                                     handler_class=_Handler)


def main(argv=None):
    conf = conf_pkg.CONF
    conf_pkg.parse_args(sys.argv[1:] if argv is None else argv, conf)
    log.setup(conf, 'solum-git')
    root = bootstrap.build(conf)
    server = make_server(conf.api.host, conf.api.port, root.wsgi_app())
    stop = threading.Event()

    def _stop(signum, frame):
        stop.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    root.engine.start()
    LOG.info('solum-git API on http://%s:%d (auth %s, engine %s)', conf.api.host,
             conf.api.port, conf.api.auth_strategy,
             'in process' if conf.engine.in_process else 'separate')
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        root.engine.stop()
        root.db.dispose()
    return 0


if __name__ == '__main__':
    sys.exit(main())
