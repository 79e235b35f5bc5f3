"""solum-git-api: the REST API on gunicorn and, by default, the engine.

The process that starts is the engine's (``[engine] in_process``): it binds
the API's socket, forks the HTTP server (gunicorn's arbiter, which builds the
app, listens and forks ``[api] workers`` workers) before any thread exists,
then runs the engine.
So the engine runs once whatever the number of workers, its children are
reaped by nobody else, and kill -9 of this process takes the server down at
once (parent-death signals: this process -> the arbiter -> its workers).
"""
import os
import signal
import sys

from oslo_log import log

from solum_git.api import server
from solum_git import bootstrap
from solum_git.common import private
from solum_git import conf as conf_pkg
from solum_git.engine import wakeups

LOG = log.getLogger(__name__)


def _api_root(conf, wake_fd):
    def build():
        # the engine is in the parent: intents reach it through the database,
        # wake-ups through the pipe
        engine = wakeups.PipeNotifier(wake_fd) if wake_fd is not None else None
        return bootstrap.build(conf, with_engine=False, engine=engine)
    return build


def _serve_child(conf, sock, parent, wake_fd):
    """In the forked child: gunicorn until SIGTERM; never returns."""
    code = 1
    try:
        server.die_with_parent(parent)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        server.serve(conf, sock, _api_root(conf, wake_fd))
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except BaseException:
        LOG.exception('API server failed')
    finally:
        os._exit(code)


def main(argv=None):
    conf = conf_pkg.CONF
    conf_pkg.parse_args(sys.argv[1:] if argv is None else argv, conf)
    private.umask()
    log.setup(conf, 'solum-git')
    private.protect(conf)
    try:
        sock = server.bind(conf.api.host, conf.api.port)
    except server.ListenError as e:
        LOG.error('%s', e)
        return 1
    # imported here, before the fork, so that workers start warm
    from solum_git.api import app  # noqa: F401
    parent = os.getpid()
    wake_read, wake_write = os.pipe() if conf.engine.in_process else (None, None)
    sys.stdout.flush()
    sys.stderr.flush()
    child = os.fork()
    if child == 0:
        if wake_read is not None:
            os.close(wake_read)
        _serve_child(conf, sock, parent, wake_write)
    if wake_write is not None:
        os.close(wake_write)
    stopping = []

    def _stop(signum, frame):
        stopping.append(signum)
        try:
            os.kill(child, signal.SIGTERM)
        except ProcessLookupError:
            pass

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        root = bootstrap.build(conf) if conf.engine.in_process else None
    except BaseException:
        _stop(signal.SIGTERM, None)
        os.waitpid(child, 0)
        raise
    listener = None
    if root is not None:
        root.start_engine()
        listener = wakeups.PipeListener(wake_read, root.engine).start()
    LOG.info('solum-git API on http://%s:%d (auth %s, %d workers x %d threads, '
             'engine %s)', conf.api.host, conf.api.port, conf.api.auth_strategy,
             conf.api.workers, conf.api.threads,
             'in process' if root is not None else 'separate')
    try:
        _, status = os.waitpid(child, 0)
    finally:
        sock.close()
        if listener is not None:
            listener.stop()
        if root is not None:
            root.stop_engine()
            root.db.dispose()
    if stopping:
        return 0
    LOG.error('API server exited (%s); stopping', _describe(status))
    return 1


def _describe(status):
    if os.WIFSIGNALED(status):
        return 'signal %d' % os.WTERMSIG(status)
    return 'status %d' % os.WEXITSTATUS(status)


if __name__ == '__main__':
    sys.exit(main())
