#!/usr/bin/env python3
"""What a rollback costs against a push deploy, and what a health check adds.

The real API over HTTP and the engine's run worker with the local runner in
its sandbox (tests/functional/pushenv.py: plain bare repos whose
post-receive runs the real hook). Each round, alternating in one process so
both see the same machine: a push of a new version (checkout, ``test_cmd``,
start, swap), then a rollback to the version before (copy of the kept build,
start, swap). Timed from ``git push`` / ``POST .../actions`` to the moment the
app on the run's ``app_url`` answers the expected version. Run from the
source tree (as root: sandbox uids):

    .venv/bin/python bench/deploy.py [--rounds N] [--health]
"""
import argparse
import os
import pathlib
import re
import shutil
import statistics
import sys
import tempfile
import time


sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

from tests.functional import demo_app  # noqa: E402
from tests.functional import pushenv  # noqa: E402

APP = demo_app.VERSION


def _serves(run, version):
    return bool(run.get('app_url')) and demo_app.answer(run['app_url']) == version


def _until_served(client, run_uri, version, start):
    run = pushenv.wait_run(client, run_uri, timeout=120)
    if run['status'] != 'SUCCESS':
        raise SystemExit('run %s: %s' % (run['status'], run['status_reason']))
    pushenv.wait_for(lambda: _serves(run, version), timeout=30, interval=0.01,
                     what=version)
    return time.monotonic() - start, run


def _pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--rounds', type=int, default=10)
    parser.add_argument('--health', action='store_true',
                        help='with config.health_path = / (the swap waits for a 200)')
    args = parser.parse_args()
    tmp = pathlib.Path(tempfile.mkdtemp(prefix='bench-deploy-'))
    env = pushenv.PushEnv(tmp, 'sqlite:///%s' % (tmp / 'db.sqlite')).start()
    pushes, rollbacks = [], []
    try:
        client = env.client()
        repo = env.make_repo(client, 'bench')
        config = {'test_cmd': 'true', 'run_cmd': 'exec python3 app.py'}
        if args.health:
            config['health_path'] = '/'
        client.post('/v1/infrastructure/repos/%s/triggers' % repo['uuid'],
                    json={'type': 'local', 'config': config})
        tree = pushenv.WorkTree(tmp / 'wt', repo['bare'])
        previous = None
        for i in range(args.rounds + 1):
            version = 'v%d' % i
            tree.commit({'app.py': APP, 'version.txt': version}, version)
            start = time.monotonic()
            output, _seconds = tree.push()
            uri = re.search(r'local run for main queued: (\S+)', output).group(1)
            seconds, run = _until_served(client, uri, version, start)
            if previous is not None:
                pushes.append(seconds)
                start = time.monotonic()
                asked = client.post(previous[1]['uri'] + '/actions',
                                    json={'action': 'rollback'}).json()
                seconds, _run = _until_served(client, asked['uri'], previous[0], start)
                rollbacks.append(seconds)
            previous = (version, run)
    finally:
        env.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    load = os.getloadavg()[0]
    print('rounds %d, health check %s, load %.1f' % (args.rounds,
                                                     'on' if args.health else 'off', load))
    for name, values in (('push deploy', pushes), ('rollback', rollbacks)):
        print('%-12s p50 %6.0f ms  p95 %6.0f ms  max %6.0f ms' % (
            name, 1000 * statistics.median(values), 1000 * _pct(values, 0.95),
            1000 * max(values)))
    ratio = statistics.median(rollbacks) / statistics.median(pushes)
    print('rollback / push (p50): %.2f' % ratio)


if __name__ == '__main__':
    main()
