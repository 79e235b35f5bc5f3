"""API list latency and throughput under 16 concurrent clients: 1 vs 4 workers.

Each client is a thread of this process with one HTTP/1.1 connection of its
own (kept alive, reopened if the server closes it) sending
``GET /v1/infrastructure/repos`` (a full page: 100 repos) back to back for
``--seconds``; the real ``solum-git-api`` (gunicorn, ``[api] workers`` = 1,
then 4) serves them. Printed per run: requests/s, p50/p95/p99/max, failed
requests, and the server's CPU (all its processes) per request.

    .venv/bin/python bench/api_workers.py                       # sqlite, 1 and 4 workers
    .venv/bin/python bench/api_workers.py --backend postgresql --workers 1 --workers 4

The clients share the machine's cores with the server: on a 2-core machine the
figures are what 2 cores give both, not the server alone.
"""
import argparse
import http.client
import os
import pathlib
import statistics
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'bench'))

import list_latency  # noqa: E402
from tests import helpers  # noqa: E402

PATH = '/v1/infrastructure/repos?limit=100'
HEADERS = {'X-Project-Id': list_latency.PROJECT, 'X-User-Id': list_latency.USER}


class Client(threading.Thread):
    def __init__(self, port, until):
        super().__init__(daemon=True)
        self.port = port
        self.until = until
        self.samples = []
        self.failures = 0
        self.errors = set()

    def run(self):
        conn = None
        while time.monotonic() < self.until:
            started = time.perf_counter()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=30)
                conn.request('GET', PATH, headers=HEADERS)
                resp = conn.getresponse()
                body = resp.read()
                if resp.status != 200 or body.count(b'"uuid"') != 100:
                    raise RuntimeError('answer %d, %d bytes' % (resp.status, len(body)))
                if resp.getheader('Connection', '').lower() == 'close':
                    conn.close()
                    conn = None
            except Exception as e:
                self.failures += 1
                self.errors.add(type(e).__name__)
                if conn is not None:
                    conn.close()
                conn = None
                continue
            self.samples.append((time.perf_counter() - started) * 1000)
        if conn is not None:
            conn.close()


def run(port, clients, seconds, pid):
    """``clients`` threads for ``seconds``; returns the samples and the CPU used."""
    warm = [Client(port, time.monotonic() + 1.0) for _ in range(clients)]
    for c in warm:
        c.start()
    for c in warm:
        c.join()
    cpu_before = list_latency.cpu_seconds(pid)
    started = time.monotonic()
    threads = [Client(port, started + seconds) for _ in range(clients)]
    for c in threads:
        c.start()
    for c in threads:
        c.join()
    wall = time.monotonic() - started
    cpu = list_latency.cpu_seconds(pid) - cpu_before
    samples = [s for c in threads for s in c.samples]
    errors = set().union(*(c.errors for c in threads))
    return samples, sum(c.failures for c in threads), errors, wall, cpu


# how long the server may take to answer /healthcheck, then to go quiet: its
# start is ~2-3 s of CPU per process (imports, the app built in every worker:
# oslo.messaging, policies, SQLAlchemy), which at a load of 25-30 on 2 cores
# took longer than the 30 s the tests wait for an API
START_TIMEOUT = 300
# the server is up once all its processes used less CPU than this in a second
QUIET_CPU = 0.05


def start(api, timeout=START_TIMEOUT):
    """Start ``api`` and wait until every worker is up: /healthcheck answers, then
    the server's processes go quiet (the workers that are still building the
    app use CPU). Returns (wall seconds, CPU seconds) of the start."""
    started = time.monotonic()
    api.start(timeout=timeout, path='/healthcheck')
    deadline = started + timeout
    used = list_latency.cpu_seconds(api.proc.pid)
    while time.monotonic() < deadline:
        time.sleep(1)
        now = list_latency.cpu_seconds(api.proc.pid)
        if now - used < QUIET_CPU:
            break
        used = now
    else:
        raise RuntimeError('solum-git-api still busy %d s after its start' % timeout)
    return time.monotonic() - started - 1, used


def bench(backend, workers, clients, seconds, tmp):
    with helpers.database(backend, tmp) as connection:
        list_latency.load(connection, 100)
        api = helpers.ApiProcess(tmp, connection, extra={
            'engine': {'in_process': 'false'}, 'api': {'workers': workers}})
        try:
            start_wall, start_cpu = start(api)
            samples, failed, errors, wall, cpu = run(api.port, clients, seconds, api.proc.pid)
        finally:
            api.stop()
    return {'backend': backend, 'workers': workers, 'samples': samples,
            'failed': failed, 'errors': errors, 'wall': wall, 'cpu': cpu,
            'start': (start_wall, start_cpu), 'load': os.getloadavg()[0]}


def report(r, clients):
    samples = r['samples']
    if not samples:
        return '%-10s %d workers: no request answered (%d failed: %s)' % (
            r['backend'], r['workers'], r['failed'], ', '.join(sorted(r['errors'])))
    pct = list_latency.percentile
    return ('%-10s %d worker%s, %d clients: %6.1f req/s  p50 %6.1f ms  p95 %6.1f ms  '
            'p99 %6.1f ms  max %7.1f ms  failed %d%s  server CPU %4.1f ms/req  n=%d; '
            'start-up %.1f s (%.1f s CPU); load average %.2f' % (
                r['backend'], r['workers'], ' ' if r['workers'] == 1 else 's', clients,
                len(samples) / r['wall'], statistics.median(samples), pct(samples, 95),
                pct(samples, 99), max(samples), r['failed'],
                ' (%s)' % ', '.join(sorted(r['errors'])) if r['errors'] else '',
                r['cpu'] * 1000 / len(samples), len(samples), r['start'][0], r['start'][1],
                r['load']))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--backend', action='append', choices=helpers.BACKENDS,
                        help='Repeatable; default: sqlite')
    parser.add_argument('--workers', action='append', type=int,
                        help='Repeatable; default: 1 and 4')
    parser.add_argument('--clients', type=int, default=16)
    parser.add_argument('--seconds', type=float, default=20.0)
    args = parser.parse_args(argv)
    print('GET %s (100 repos a page), %d concurrent keep-alive clients, %.0f s a run;'
          ' load average %.2f, %d CPUs' % (PATH, args.clients, args.seconds,
                                           os.getloadavg()[0], os.cpu_count()))
    failed = False
    for backend in args.backend or ['sqlite']:
        for workers in args.workers or [1, 4]:
            with tempfile.TemporaryDirectory(prefix='sg-bench-') as tmp:
                result = bench(backend, workers, args.clients, args.seconds,
                               pathlib.Path(tmp))
            print(report(result, args.clients))
            sys.stdout.flush()
            failed = failed or result['failed'] > 0 or not result['samples']
    print('load average at the end: %.2f' % os.getloadavg()[0])
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
