"""Scale-out: engines that split the stacks with tooz (redis) on one database.

Four measurements, each on a new database of the chosen server, with the real
``solum-git-api`` (no engine in it) and ``solum-git-engine`` processes of
tests/functional/cluster.py and local git servers:

1. create throughput: ``--projects`` projects of one repo each created through
   the API at once; seconds from the first create to every repo ACTIVE, with 1
   engine and with 3 (the ratio);
2. failover: 3 engines, stacks ACTIVE; the owner (by the ring) of a stack is
   killed -9 (or SIGSTOPped: a host that stops answering, seen only when its
   heartbeats stop) and a repo is created on that stack at once: seconds from
   the kill to a survivor holding the stack's lease (the stack moved) and to
   the repo ACTIVE, next to the same create with every engine up;
3. idle database load: 4 engines (3 processes and one in this process) and
   nothing to do; transactions per second per engine (PostgreSQL's
   pg_stat_database for the database) and statements per second of one engine
   (a SQLAlchemy event in this process, by thread), at ``[engine]
   poll_interval`` 5 s and 10 s (the default: casts wake the engines);
4. API list p95 with 16 clients, 1 vs 4 workers, on SQLite and the chosen
   server: bench/api_workers.py's run.

    .venv/bin/python bench/scaleout.py                      # PostgreSQL, all four
    .venv/bin/python bench/scaleout.py --only failover --trials 5
"""
import argparse
import collections
import concurrent.futures
import os
import pathlib
import re
import signal
import statistics
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'bench'))

import api_workers  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from solum_git import bootstrap  # noqa: E402
from tests.functional import cluster  # noqa: E402
from tests.functional import gitserver  # noqa: E402
from tests import helpers  # noqa: E402

REPOS = '/v1/infrastructure/repos'


def _client(world, project, api=0):
    return helpers.Client(world.apis[api % len(world.apis)].url, project, 'bench')


def _create(world, project, name, api=0):
    r = _client(world, project, api).post(REPOS, json={'name': name})
    if r.status_code != 201:
        raise RuntimeError('create %s/%s: %d %s' % (project, name, r.status_code, r.text))
    return r.json()


def _wait_active(world, repo_uuids, timeout):
    wanted = set(repo_uuids)

    def done():
        rows = world.rows('SELECT uuid, status FROM repos')
        errors = [r for r in rows if r['status'] == 'ERROR']
        if errors:
            raise RuntimeError('repos in ERROR: %s' % errors[:3])
        return wanted <= {r['uuid'] for r in rows if r['status'] == 'ACTIVE'}
    gitserver.wait_for(done, timeout=timeout, interval=0.1, what='repos ACTIVE')


def create_throughput(backend, engines, projects):
    with tempfile.TemporaryDirectory(prefix='sg-scale-') as tmp:
        with cluster.running(pathlib.Path(tmp), backend, apis=2, engines=engines,
                             stacks=projects + 2) as world:
            started = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(16) as pool:
                repos = list(pool.map(lambda p: _create(world, 'scale-%d' % p, 'app', p),
                                      range(projects)))
            _wait_active(world, [r['uuid'] for r in repos], timeout=1800)
            return time.monotonic() - started


def failover(backend, trials, how):
    """[(seconds kill -> repo ACTIVE, seconds with every engine up)] per trial."""
    results = []
    with tempfile.TemporaryDirectory(prefix='sg-scale-') as tmp:
        with cluster.running(pathlib.Path(tmp), backend, apis=1, engines=3,
                             stacks=8) as world:
            repos = [_create(world, 'fo-%d' % p, 'app') for p in range(6)]
            _wait_active(world, [r['uuid'] for r in repos], timeout=600)
            stacks = world.rows('SELECT uuid, project_id FROM stacks ORDER BY id')
            spare = len(world.engines) + 1
            for trial in range(trials):
                stack = stacks[trial % len(stacks)]
                # the same create with everyone up: what any create costs here
                started = time.monotonic()
                repo = _create(world, stack['project_id'], 'up-%d' % trial)
                _wait_active(world, [repo['uuid']], timeout=120)
                baseline = time.monotonic() - started
                # the owner's passes after that create (the lease released, the
                # backup it woke) end first: a process stopped inside a database
                # transaction holds its row locks, and the next create would
                # wait on them (operations.rst, "Known limits"), not on failover
                time.sleep(2)
                victim = world.owner(stack['uuid'])
                survivors = [e for e in world.engines if e is not victim]
                marks = {e: e.log_path.stat().st_size for e in survivors}
                killed_at = time.time()
                started = time.monotonic()
                claimed = _watch_claim(world, stack['uuid'], survivors, started)
                if how == 'kill':
                    victim.kill()
                else:
                    os.kill(victim.proc.pid, signal.SIGSTOP)
                try:
                    repo = _create(world, stack['project_id'], 'after-%d' % trial)
                except Exception:
                    _print_waits(world)
                    raise
                _wait_active(world, [repo['uuid']], timeout=300)
                took = time.monotonic() - started
                claimed.join(10)
                if claimed.took is None:
                    raise RuntimeError('no survivor was seen holding the stack\'s lease')
                results.append((took, baseline, _seen_gone(marks, victim) - killed_at,
                                claimed.took))
                if how != 'kill':
                    victim.kill()       # SIGKILL ends a stopped process too
                victim.stop()
                # a new engine in its place (a new member id), in the group again
                fresh = world.new_engine(spare)
                spare += 1
                world.engines[world.engines.index(victim)] = world.start_engine(fresh)
                time.sleep(3)
    return results


def _print_waits(world):
    """PostgreSQL's sessions of the database: who waits, who holds a transaction."""
    name = world.connection.rsplit('/', 1)[1]
    for row in world.rows(
            "SELECT pid, state, wait_event_type, wait_event, "
            "now() - xact_start AS in_xact, left(query, 120) AS query "
            "FROM pg_stat_activity WHERE datname = :name AND state <> 'idle'", name=name):
        print('  pg session %s' % dict(row), file=sys.stderr)


def _watch_claim(world, stack_uuid, survivors, started, timeout=300):
    """A thread that looks at the stack's lease every 20 ms; ``took``: seconds
    from ``started`` (the kill) to a survivor holding it (the stack moved)."""
    ids = {e.member_id for e in survivors}

    def watch():
        deadline = started + timeout
        while time.monotonic() < deadline:
            rows = world.rows('SELECT lease_owner FROM stacks WHERE uuid = :u', u=stack_uuid)
            if rows and rows[0]['lease_owner'] in ids:
                thread.took = time.monotonic() - started
                return
            time.sleep(0.02)
    thread = threading.Thread(target=watch, daemon=True)
    thread.took = None
    thread.start()
    return thread


def _seen_gone(marks, victim):
    """When the first survivor logged the victim's leaving (epoch seconds; the
    log's local time)."""
    seen = []
    for engine, offset in marks.items():
        with open(engine.log_path, 'rb') as f:
            f.seek(offset)
            for line in f.read().decode(errors='replace').splitlines():
                if 'left: ' in line and victim.member_id in line.split('left: ', 1)[1]:
                    stamp = time.strptime(line[:19], '%Y-%m-%d %H:%M:%S')
                    seen.append(time.mktime(stamp) + float(line[19:23]))
                    break
    if not seen:
        raise RuntimeError('no survivor logged that %s left' % victim.member_id)
    return min(seen)


def idle_load(backend, poll_interval, seconds):
    """Per idle engine: database transactions/s (PostgreSQL's counters over the 3
    engine processes and a 4th engine in this process, same configuration, same
    group) and statements/s (that 4th engine's, counted by a SQLAlchemy event)."""
    with tempfile.TemporaryDirectory(prefix='sg-scale-') as tmp:
        with cluster.running(pathlib.Path(tmp), backend, apis=1, engines=3, stacks=8,
                             engine_opts={'poll_interval': poll_interval}) as world:
            repos = [_create(world, 'idle-%d' % p, 'app') for p in range(5)]
            _wait_active(world, [r['uuid'] for r in repos], timeout=600)
            world.apis[0].stop()        # only the engines talk to the database now
            conf = helpers.make_conf(pathlib.Path(tmp) / 'state', world.connection,
                                     config_file=world.apis[0].config)
            counted = bootstrap.build(conf, with_engine=True)
            statements = collections.Counter()

            def count(*_args):
                # by thread: the worker's loop (solum-git-stacks), its pool
                # (solum-git-stack_0), the coordination thread...
                statements[re.sub(r'_\d+$', '', threading.current_thread().name)] += 1
            sa.event.listen(counted.db.engine, 'before_cursor_execute', count)
            counted.engine.start()
            try:
                # its first passes (drift checks of the stacks it now owns) are not idle
                time.sleep(max(15, 3 * poll_interval))
                name = world.connection.rsplit('/', 1)[1]

                def transactions():
                    return world.rows('SELECT xact_commit + xact_rollback AS n FROM '
                                      'pg_stat_database WHERE datname = :name',
                                      name=name)[0]['n']
                before = transactions()
                statements.clear()
                time.sleep(seconds)
                done, after = dict(statements), transactions()
            finally:
                counted.engine.stop()
                counted.db.dispose()
            # four engines, all idle, one configuration; less this process's SELECTs
            return ((after - before - 2) / seconds / (len(world.engines) + 1),
                    sum(done.values()) / seconds,
                    {name: n / seconds for name, n in sorted(done.items())})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--backend', default='postgresql',
                        choices=['postgresql', 'mysql'],
                        help='the idle load is measured on PostgreSQL only')
    parser.add_argument('--projects', type=int, default=50)
    parser.add_argument('--trials', type=int, default=3)
    parser.add_argument('--idle-seconds', type=float, default=60)
    parser.add_argument('--poll', type=float, action='append',
                        help='[engine] poll_interval of an idle run (repeat; '
                             'default: 5 and 10, the default)')
    parser.add_argument('--only', action='append',
                        choices=['create', 'failover', 'idle', 'api'])
    args = parser.parse_args(argv)
    only = set(args.only or ['create', 'failover', 'idle', 'api'])
    args.poll = args.poll or [5.0, 10.0]
    print('%s; %d CPUs, load average %.2f'
          % (args.backend, os.cpu_count(), os.getloadavg()[0]))
    if 'create' in only:
        times = {n: create_throughput(args.backend, n, args.projects) for n in (1, 3)}
        for n, took in times.items():
            print('create %d projects, %d engine%s: %6.1f s  (%.2f stacks/s)' % (
                args.projects, n, '' if n == 1 else 's', took, args.projects / took))
        print('ratio 3 engines / 1 engine: %.2f' % (times[1] / times[3]))
        sys.stdout.flush()
    if 'failover' in only:
        for how in ('kill', 'stop'):
            found = failover(args.backend, args.trials, how)
            after = [a for a, _b, _s, _c in found]
            base = [b for _a, b, _s, _c in found]
            seen = [s for _a, _b, s, _c in found]
            claimed = [c for _a, _b, _s, c in found]
            print('failover (%s): kill -> seen gone median %.1f s, max %.1f s; '
                  'kill -> stack claimed by a survivor median %.1f s, max %.1f s; '
                  'kill -> repo ACTIVE median %.1f s, max %.1f s; the same create with '
                  'all engines up median %.1f s  (n=%d); load average %.2f' % (
                      'kill -9' if how == 'kill' else 'SIGSTOP', statistics.median(seen),
                      max(seen), statistics.median(claimed), max(claimed),
                      statistics.median(after), max(after),
                      statistics.median(base), len(found), os.getloadavg()[0]))
            sys.stdout.flush()
    if 'idle' in only and args.backend == 'postgresql':
        for interval in args.poll:
            rate, statements, by_thread = idle_load(args.backend, interval,
                                                    args.idle_seconds)
            print('idle, poll_interval %4.1f s: %.2f DB transactions/s per engine; '
                  '%.2f statements/s for one engine (%s); load average %.2f' % (
                      interval, rate, statements,
                      ', '.join('%s %.2f' % kv for kv in by_thread.items()),
                      os.getloadavg()[0]))
            sys.stdout.flush()
    if 'api' in only:
        for backend in ('sqlite', args.backend):
            for workers in (1, 4):
                with tempfile.TemporaryDirectory(prefix='sg-bench-') as tmp:
                    result = api_workers.bench(backend, workers, 16, 20.0,
                                               pathlib.Path(tmp))
                print(api_workers.report(result, 16))
                sys.stdout.flush()
    print('load average at the end: %.2f' % os.getloadavg()[0])
    return 0


if __name__ == '__main__':
    sys.exit(main())
