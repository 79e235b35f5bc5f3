"""solum-git-engine: a separate engine process (with [engine] in_process = false)."""
import signal
import sys
import threading

from oslo_log import log

from solum_git import bootstrap
from solum_git.common import private
from solum_git import conf as conf_pkg

LOG = log.getLogger(__name__)


def main(argv=None):
    conf = conf_pkg.CONF
    conf_pkg.parse_args(sys.argv[1:] if argv is None else argv, conf)
    private.umask()
    log.setup(conf, 'solum-git')
    private.protect(conf)
    root = bootstrap.build(conf, with_engine=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: done.set())
    signal.signal(signal.SIGINT, lambda *a: done.set())
    root.start_engine()
    LOG.info('solum-git engine %s started', root.engine.engine_id)
    done.wait()
    root.stop_engine()
    root.db.dispose()
    return 0


if __name__ == '__main__':
    sys.exit(main())
