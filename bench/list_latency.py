"""List latency of GET /v1/infrastructure/repos with 10,000 repos in one project.

The rows go straight into the database (it is the list that is measured, not
repo creation); the requests go over real HTTP to the real solum-git-api
process. For each backend it prints p50/p95/max of the first page (newest
first, the default page size) and of a deep page (a marker near the end).

    .venv/bin/python bench/list_latency.py                     # sqlite, mysql, postgresql
    .venv/bin/python bench/list_latency.py --backend sqlite --repos 1000

MariaDB and PostgreSQL are the test servers on 127.0.0.1 (see tests/helpers.py;
SOLUM_GIT_TEST_MYSQL / SOLUM_GIT_TEST_POSTGRES override them). A throwaway
database is created and dropped for each run.
"""
import argparse
import datetime
import math
import os
import pathlib
import statistics
import sys
import tempfile
import time
import uuid

import requests
import sqlalchemy as sa

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from solum_git.db import api as db_api  # noqa: E402
from solum_git.db import migration  # noqa: E402
from solum_git.db import models  # noqa: E402
from tests import helpers  # noqa: E402

PROJECT = 'bench-project'
USER = 'bench-user'
TARGET_P95_MS = 50.0


def load(connection, count, batch=2000):
    """One stack and ``count`` repos (each with its RW+ creator) in one project."""
    db = db_api.Database(connection)
    migration.upgrade(db.engine)
    start = datetime.datetime(2024, 1, 1)
    with db.writer() as session:
        stack = models.Stack(
            uuid=str(uuid.uuid4()), name='git-' + PROJECT, project_id=PROJECT,
            user_id=USER, provisioner='local', status='ACTIVE', hook_secret='x' * 64,
            ssh_host='127.0.0.1', ssh_port=29418, ssh_user='git', config_version=1,
            applied_version=1, tags=[])
        session.add(stack)
        session.flush()
        stack_id = stack.id
    for first in range(0, count, batch):
        numbers = range(first, min(first + batch, count))
        repos = [{'uuid': str(uuid.uuid4()), 'name': 'repo-%05d' % i,
                  'description': 'benchmark repo %d' % i, 'default_branch': 'main',
                  'project_id': PROJECT, 'user_id': USER, 'stack_id': stack_id,
                  'status': 'ACTIVE',
                  'created_at': start + datetime.timedelta(seconds=i)}
                 for i in numbers]
        with db.writer() as session:
            session.execute(sa.insert(models.Repo), repos)
            ids = dict(session.execute(sa.select(models.Repo.name, models.Repo.id).where(
                models.Repo.name.in_([r['name'] for r in repos]))).all())
            session.execute(sa.insert(models.Member), [
                {'repo_id': ids[r['name']], 'user_id': USER, 'permission': 'RW+',
                 'created_at': r['created_at']} for r in repos])
    db.dispose()


def _stat(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()
    except (OSError, IndexError):
        return None


def cpu_seconds(pid):
    """User + system CPU the process and its live descendants have used (/proc).

    solum-git-api serves from gunicorn worker processes under it.
    """
    parents = {}
    for name in filter(str.isdigit, os.listdir('/proc')):
        fields = _stat(int(name))
        if fields:
            parents[int(name)] = int(fields[1])
    tree, todo = set(), [pid]
    while todo:
        current = todo.pop()
        tree.add(current)
        todo.extend(p for p, parent in parents.items() if parent == current and p not in tree)
    ticks = 0
    for member in tree:
        fields = _stat(member)
        if fields:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf('SC_CLK_TCK')


def timed_gets(url, params, count, pid, warmup=10):
    """Wall-clock ms of each request, and the server's CPU ms per request.

    The CPU figure holds still when other work shares the machine; the
    wall-clock one does not.
    """
    headers = {'X-Project-Id': PROJECT, 'X-User-Id': USER}
    samples = []
    for i in range(warmup + count):
        if i == warmup:
            cpu_before = cpu_seconds(pid)
        started = time.perf_counter()
        resp = requests.get(url, params=params, headers=headers, timeout=30)
        elapsed = (time.perf_counter() - started) * 1000
        resp.raise_for_status()
        items = resp.json()
        if i >= warmup:
            samples.append(elapsed)
    cpu_ms = (cpu_seconds(pid) - cpu_before) * 1000 / count
    return samples, cpu_ms, items


def percentile(samples, p):
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(p / 100.0 * len(ordered)) - 1)]


def deep_marker(url, count, page):
    """The uuid of the repo ``page`` items before the end of the newest-first list."""
    headers = {'X-Project-Id': PROJECT, 'X-User-Id': USER}
    # the oldest repos, in ascending order: the (page+1)-th oldest is the marker
    oldest = requests.get(url, params={'sort_dir': 'asc', 'limit': page + 1},
                          headers=headers, timeout=30).json()
    return oldest[-1]['uuid']


def bench(backend, count, requests_per_page, tmp):
    with helpers.database(backend, tmp) as connection:
        started = time.monotonic()
        load(connection, count)
        load_seconds = time.monotonic() - started
        api = helpers.ApiProcess(tmp, connection, extra={
            'engine': {'in_process': 'false'}})
        api.start()
        try:
            url = api.url + '/v1/infrastructure/repos'
            pid = api.proc.pid
            first, first_cpu, items = timed_gets(url, {}, requests_per_page, pid)
            page = len(items)
            assert items[0]['name'] == 'repo-%05d' % (count - 1), items[0]['name']
            marker = deep_marker(url, count, page)
            deep, deep_cpu, items = timed_gets(url, {'marker': marker},
                                               requests_per_page, pid)
            assert len(items) == page and items[-1]['name'] == 'repo-00000'
        finally:
            api.stop()
    return {'backend': backend, 'load_s': load_seconds, 'page': page,
            'first': first, 'deep': deep, 'first_cpu': first_cpu, 'deep_cpu': deep_cpu}


def report(result):
    lines = []
    for name in ('first', 'deep'):
        samples = result[name]
        p95 = percentile(samples, 95)
        lines.append('%-10s %-5s page of %3d  p50 %5.1f ms  p95 %5.1f ms  max %6.1f ms'
                     '  server CPU %4.1f ms/req  n=%d  %s' % (
                         result['backend'], name, result['page'],
                         statistics.median(samples), p95, max(samples),
                         result[name + '_cpu'], len(samples),
                         'ok' if p95 < TARGET_P95_MS else 'MISSES p95 < %d ms'
                         % TARGET_P95_MS))
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--backend', action='append', choices=helpers.BACKENDS,
                        help='Repeatable; default: all three')
    parser.add_argument('--repos', type=int, default=10000)
    parser.add_argument('--requests', type=int, default=200,
                        help='Timed requests per page (after 10 warm-up requests)')
    args = parser.parse_args(argv)
    backends = args.backend or list(helpers.BACKENDS)
    print('%d repos in one project, %d timed GETs per page, solum-git-api over HTTP;'
          ' load average %.2f, %d CPUs'
          % (args.repos, args.requests, os.getloadavg()[0], os.cpu_count()))
    missed = False
    for backend in backends:
        with tempfile.TemporaryDirectory(prefix='sg-bench-') as tmp:
            result = bench(backend, args.repos, args.requests, pathlib.Path(tmp))
        print('%-10s loaded in %.1f s' % (backend, result['load_s']))
        for line in report(result):
            print(line)
            missed = missed or 'MISSES' in line
        sys.stdout.flush()
    print('load average at the end: %.2f' % os.getloadavg()[0])
    return 1 if missed else 0


if __name__ == '__main__':
    sys.exit(main())
