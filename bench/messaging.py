"""How long a change takes to be applied by a separate engine: cast vs poll.

The real ``solum-git-api`` (``[engine] in_process = false``) and one real
``solum-git-engine`` with the local provisioner; a member change is PUT
``--changes`` times, and each is timed from the request to the engine's
record of it (``applied_version`` reaching the stack's ``config_version``).
Runs, in one go:

- ``cast``: ``[DEFAULT] transport_url`` on RabbitMQ (a vhost of its own),
- ``poll``: no transport_url, the engine finds changes by its poll only,
- ``bus down``: transport_url set, the vhost deleted: the API's answer time
  and the apply time (the poll's).

Printed per run: p50/p95/max of apply time and of the API's answer time.

    .venv/bin/python bench/messaging.py --changes 15 --poll 5
"""
import argparse
import pathlib
import statistics
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.functional import gitserver  # noqa: E402
from tests.functional import rabbit  # noqa: E402
from tests.functional import test_resync_intent  # noqa: E402

PROJECT = 'bench-msg'


def _pct(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run(label, changes, poll, url=None, down=None):
    extra = {'engine': {'in_process': 'false', 'poll_interval': poll}}
    if url:
        extra['DEFAULT'] = {'transport_url': url}
    with tempfile.TemporaryDirectory() as tmp, gitserver.stacks_dir() as stacks:
        tmp = pathlib.Path(tmp)
        api = gitserver.GitApi(tmp, stacks, extra=extra)
        engine = test_resync_intent.Engine(api, tmp, 'engine')
        try:
            api.start()
            engine.start()
            dev = gitserver.Dev(api, tmp, PROJECT, 'alice')
            repo = dev.wait_active(dev.create_repo('app'), timeout=120)
            api.wait_applied(PROJECT, timeout=poll * 3 + 30)
            if down is not None:
                down.down()
            answers, applies = [], []
            try:
                for i in range(changes):
                    started = time.monotonic()
                    dev.set_member(repo, 'user-%d' % i, 'RW')
                    answers.append(time.monotonic() - started)
                    api.wait_applied(PROJECT, timeout=poll * 3 + 30)
                    applies.append(time.monotonic() - started)
            finally:
                if down is not None:
                    down.up()
        finally:
            engine.stop()
            api.stop()
    print('%-9s poll %4.1f s  apply p50 %6.2f s  p95 %6.2f s  max %6.2f s   '
          'API answer p50 %5.0f ms  p95 %5.0f ms'
          % (label, poll, statistics.median(applies), _pct(applies, 0.95), max(applies),
             statistics.median(answers) * 1000, _pct(answers, 0.95) * 1000), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--changes', type=int, default=15)
    parser.add_argument('--poll', type=float, default=5.0)
    args = parser.parse_args()
    with rabbit.vhost() as vhost:
        run('cast', args.changes, args.poll, url=vhost.url)
        run('poll', args.changes, args.poll)
        run('bus down', args.changes, args.poll, url=vhost.url, down=vhost)


if __name__ == '__main__':
    main()
