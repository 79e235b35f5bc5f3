"""Tenant git servers on one machine: how fast a repo becomes pushable, what an
admin push costs as the conf grows, and what an idle server holds in memory.

    .venv/bin/python bench/stacks.py                  # the figures in docs/benchmarks.rst
    .venv/bin/python bench/stacks.py --stream 200 --admin-sizes 1000   # quicker

Everything is real: the solum-git-api process (SQLite, engine in process, the
local provisioner), gitolite3 and sshd on loopback, repos created over HTTP.
"ACTIVE" is read from the database every 10 ms (the same row the API shows),
so polling does not load the API being measured.

1. create -> ACTIVE, one at a time (each create waits for the previous repo to
   be ACTIVE), at about 10, 100 and 1,000 repos in the project: p50 / p95.
2. N creates in a row (default 1,000; the client does not wait): time until
   all are ACTIVE, and each repo's create -> ACTIVE p50 / p95. The engine
   coalesces: one admin push carries every repo created since the last one.
3. admin push (one more repo, conf rendered whole) with 1,000 and 10,000 repos
   in gitolite.conf: gitolite-admin pushed straight from the engine's admin
   client to a local stack, median of 5. The repos of the fill are written to
   disk first (see ``prefill``).
4. memory of one idle local stack: its sshd (RSS, PSS) once no connection is
   open; gitolite runs only per connection.
5. with ``--big 10000``: the stream goes on to 10,000 repos in the project and
   create -> ACTIVE is measured one at a time again.
"""
import argparse
import contextlib
import os
import pathlib
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import types
import uuid

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from solum_git.gitolite import admin  # noqa: E402
from solum_git.gitolite import render  # noqa: E402
from solum_git.gitolite import ssh  # noqa: E402
from solum_git.provisioners import local  # noqa: E402
from tests.functional import gitserver  # noqa: E402
from tests import helpers  # noqa: E402

TARGET_P95 = 2.0
TARGET_STREAM = 60.0
TARGET_RSS_MB = 16.0


def pct(values, p):
    values = sorted(values)
    if not values:
        return float('nan')
    k = (len(values) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


class Watcher:
    """When each repo turned ACTIVE, from the database, every 10 ms.

    Only the repos still waiting are asked about, so the watcher stays cheap
    with 10,000 repos in the table.
    """

    def __init__(self, db_path):
        self.db_path = db_path
        self.active = {}
        self.pending = set()
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def watch(self, repo_uuid):
        with self.lock:
            self.pending.add(repo_uuid)

    def run(self):
        db = sqlite3.connect('file:%s?mode=ro' % self.db_path, uri=True, timeout=30)
        while not self.stop.is_set():
            with self.lock:
                waiting = list(self.pending)
            rows = []
            for i in range(0, len(waiting), 500):
                chunk = waiting[i:i + 500]
                try:
                    rows += db.execute(
                        "SELECT uuid FROM repos WHERE status = 'ACTIVE' AND uuid IN (%s)"
                        % ','.join('?' * len(chunk)), chunk).fetchall()
                except sqlite3.OperationalError:
                    pass
            now = time.monotonic()
            with self.lock:
                for (repo_uuid,) in rows:
                    self.active.setdefault(repo_uuid, now)
                    self.pending.discard(repo_uuid)
            time.sleep(0.01)
        db.close()

    def wait(self, uuids, timeout):
        deadline = time.monotonic() + timeout
        while not all(u in self.active for u in uuids):
            if time.monotonic() > deadline:
                missing = [u for u in uuids if u not in self.active]
                raise RuntimeError('%d repos not ACTIVE after %ss' % (len(missing), timeout))
            time.sleep(0.005)

    def close(self):
        self.stop.set()
        self.thread.join()


def create(client, watcher, name):
    started = time.monotonic()
    r = client.post('/v1/infrastructure/repos', json={'name': name})
    if r.status_code != 201:
        raise RuntimeError('create %s: %s %s' % (name, r.status_code, r.text))
    watcher.watch(r.json()['uuid'])
    return r.json()['uuid'], started


def one_at_a_time(client, watcher, prefix, count):
    latencies = []
    for i in range(count):
        repo_uuid, started = create(client, watcher, '%s-%04d' % (prefix, i))
        watcher.wait([repo_uuid], 120)
        latencies.append(watcher.active[repo_uuid] - started)
    return latencies


def in_a_row(client, watcher, prefix, count):
    started_all = time.monotonic()
    made = [create(client, watcher, '%s-%05d' % (prefix, i)) for i in range(count)]
    api_done = time.monotonic() - started_all
    watcher.wait([u for u, _ in made], 600)
    total = max(watcher.active[u] for u, _ in made) - started_all
    return total, api_done, [watcher.active[u] - s for u, s in made]


def report(label, values, target=None):
    line = '%-44s p50 %6.2f s   p95 %6.2f s   max %6.2f s   (n=%d)' % (
        label, pct(values, 50), pct(values, 95), max(values), len(values))
    if target is not None:
        met = 'met' if pct(values, 95) < target else 'NOT met'
        line += '   target p95 < %.0f s: %s' % (target, met)
    print(line, flush=True)


def api_phases(args, work):
    """Phases 1 and 2 through the real API."""
    with gitserver.stacks_dir() as stacks:
        api = gitserver.GitApi(work, stacks, ports=4)
        api.start()
        watcher = Watcher(api.db_path)
        try:
            small = helpers.Client(api.url, 'bench-small', 'alice')
            first = one_at_a_time(small, watcher, 'first', 1)[0]
            print('first repo of a project (its server is made): ACTIVE after %.2f s'
                  % first, flush=True)
            mark = engine_passes(api, 0)[3]
            report('create -> ACTIVE, one at a time, ~10 repos',
                   one_at_a_time(small, watcher, 's', 10), TARGET_P95)
            report_passes(api, mark, 'at ~10 repos')
            in_a_row(small, watcher, 'fill', 80)
            mark = engine_passes(api, 0)[3]
            report('create -> ACTIVE, one at a time, ~100 repos',
                   one_at_a_time(small, watcher, 'm', 20), TARGET_P95)
            report_passes(api, mark, 'at ~100 repos')

            big = helpers.Client(api.url, 'bench-big', 'bob')
            total, api_done, latencies = in_a_row(big, watcher, 'r', args.stream)
            print('%d creates in a row: all ACTIVE after %.1f s (API calls %.1f s)'
                  '   target < %.0f s: %s' % (
                      args.stream, total, api_done, TARGET_STREAM,
                      'met' if total < TARGET_STREAM else 'NOT met'), flush=True)
            report('  each repo of the stream: create -> ACTIVE', latencies)
            mark = engine_passes(api, 0)[3]
            report('create -> ACTIVE, one at a time, ~%d repos' % args.stream,
                   one_at_a_time(big, watcher, 'l', 20), TARGET_P95)
            report_passes(api, mark, 'at ~%d repos' % args.stream)
            if args.big > args.stream:
                started = time.monotonic()
                in_a_row(big, watcher, 'b', args.big - args.stream - 20)
                print('stream on to %d repos: %.0f s' % (args.big, time.monotonic() - started),
                      flush=True)
                mark = engine_passes(api, 0)[3]
                report('create -> ACTIVE, one at a time, ~%d repos' % args.big,
                       one_at_a_time(big, watcher, 'z', 20), TARGET_P95)
                report_passes(api, mark, 'at ~%d repos' % args.big)
            stack = api.stack_row('bench-big')
            idle_memory(api, stack['uuid'])
        finally:
            watcher.close()
            api.stop()


def engine_passes(api, since):
    """The engine's own timing of each admin push (its log), from line ``since`` on."""
    lines = api.log_path.read_text(errors='replace').splitlines()[since:]
    totals, renders, pushes = [], [], []
    for line in lines:
        match = re.search(r'applied \((\d+) repos, pushed.*in ([\d.]+)s: render ([\d.]+)s, '
                          r'push ([\d.]+)s', line)
        if match:
            totals.append(float(match.group(2)))
            renders.append(float(match.group(3)))
            pushes.append(float(match.group(4)))
    return totals, renders, pushes, len(lines) + since


def report_passes(api, since, label):
    totals, renders, pushes, end = engine_passes(api, since)
    if totals:
        print('  engine passes %-30s n=%d  median %.2f s (render %.2f s, push %.2f s)'
              % (label, len(totals), statistics.median(totals), statistics.median(renders),
                 statistics.median(pushes)), flush=True)
    return end


def idle_memory(api, stack_uuid):
    """The stack's sshd once the engine's ssh connection has gone idle."""
    pids = gitserver.sshd_pids(os.path.join(api.stacks_path, stack_uuid))
    deadline = time.monotonic() + 60
    while len(pids) != 1 and time.monotonic() < deadline:
        time.sleep(0.5)  # the engine closes its idle master connection after 30 s
        pids = gitserver.sshd_pids(os.path.join(api.stacks_path, stack_uuid))
    rss = pss = 0
    for pid in pids:
        one = gitserver.memory_mb(pid)
        rss, pss = rss + one[0] * 1024, pss + one[1] * 1024
    print('idle local stack: %d process(es), RSS %.1f MB, PSS %.1f MB   target RSS < %.0f MB:'
          ' %s' % (len(pids), rss / 1024.0, pss / 1024.0, TARGET_RSS_MB,
                   'met' if rss / 1024.0 < TARGET_RSS_MB else 'NOT met'), flush=True)


def admin_push_phase(args, work):
    """Phase 3: the admin client against one local stack, no API in between."""
    conf = helpers.make_conf(work / 'astate', 'sqlite://', local={
        'ssh_port_min': 1, 'ssh_port_max': 1})
    with gitserver.stacks_dir() as stacks:
        conf.set_override('stacks_path', stacks, group='local')
        provisioner = local.LocalProvisioner(conf)
        port = gitserver.port_range(1)[0]
        stack = types.SimpleNamespace(
            uuid=str(uuid.uuid4()), ssh_host='127.0.0.1', ssh_port=port,
            ssh_user=local.service_user(conf), hook_secret='x' * 64, ssh_host_keys=None)
        private = admin.generate_key()
        mux = ssh.Multiplexer()
        try:
            provisioner.create(stack, {'admin_public_key': admin.public_key(private),
                                       'admin_user': render.ADMIN_USER})
            state = provisioner.check(stack)
            client = admin.AdminClient(str(work / 'admin'), stack.ssh_host, port,
                                       stack.ssh_user, private, [state.ssh_host_keys],
                                       mux=mux)
            public = admin.public_key(private)
            done = 0
            home = os.path.join(stacks, stack.uuid, 'home')
            for size in args.admin_sizes:
                names = ['repo-%05d' % i for i in range(size)]
                members = [render.Member(n, 'alice', 'RW+') for n in names]
                prefill(home, names[done:])
                started = time.monotonic()
                client.apply(render.render([render.Repo(n) for n in names], members, [],
                                           public), 'fill to %d' % size)
                fill = time.monotonic() - started
                times = []
                for i in range(5):
                    extra = 'extra-%d-%d' % (size, i)
                    names.append(extra)
                    members.append(render.Member(extra, 'alice', 'RW+'))
                    started = time.monotonic()
                    result = client.apply(render.render(
                        [render.Repo(n) for n in names], members, [], public),
                        'one more at %d' % size)
                    assert result.pushed
                    times.append(time.monotonic() - started)
                print('admin push adding one repo, %5d repos in the conf: median %.2f s'
                      ' (min %.2f, max %.2f; filling %d new repos took %.1f s)' % (
                          size, statistics.median(times), min(times), max(times),
                          size - done, fill), flush=True)
                if not done:
                    client.remove_repos(['testing'])  # gitolite's sample repo
                done = size
                started = time.monotonic()
                check = client.check(fix=True)
                print('drift check (solum-sync check) at %5d repos: %.2f s (%s)' % (
                    len(names), time.monotonic() - started, check.state), flush=True)
        finally:
            mux.close()
            provisioner.close()
            provisioner.delete(stack)


def prefill(home, names):
    """Empty bare repos written straight to disk, so that filling the conf is quick.

    gitolite loads the whole compiled conf once for every repo it creates
    (its POST_CREATE trigger), which makes one push that creates 10,000 repos
    take many minutes; repos already on disk only get their hooks linked.
    Filling is not what is measured.
    """
    owner = os.stat(home)
    for name in names:
        top = os.path.join(home, 'repositories', name + '.git')
        for sub in ('hooks', 'objects/info', 'objects/pack', 'refs/heads', 'refs/tags'):
            os.makedirs(os.path.join(top, sub), exist_ok=True)
        with open(os.path.join(top, 'HEAD'), 'w') as f:
            f.write('ref: refs/heads/main\n')
        with open(os.path.join(top, 'config'), 'w') as f:
            f.write('[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n'
                    '\tbare = true\n')
        for dirpath, dirnames, filenames in os.walk(top):
            for entry in [dirpath] + [os.path.join(dirpath, n) for n in filenames]:
                os.chown(entry, owner.st_uid, owner.st_gid)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--stream', type=int, default=1000,
                        help='creates in a row in one project (default 1000)')
    parser.add_argument('--admin-sizes', type=int, nargs='*', default=[1000, 10000],
                        help='conf sizes for the admin push timing (default 1000 10000)')
    parser.add_argument('--big', type=int, default=0,
                        help='then stream on to this many repos and measure again '
                             '(e.g. 10000; takes several minutes)')
    parser.add_argument('--skip-api', action='store_true', help='only the admin pushes')
    args = parser.parse_args()
    work = pathlib.Path(tempfile.mkdtemp(prefix='solum-git-bench-'))
    print('solum-git bench/stacks.py on %d cores, load average %.2f at start' % (
        os.cpu_count(), os.getloadavg()[0]), flush=True)
    try:
        if not args.skip_api:
            api_phases(args, work)
        if args.admin_sizes:
            admin_push_phase(args, work)
    finally:
        shutil.rmtree(str(work), ignore_errors=True)
    print('load average at the end %.2f' % os.getloadavg()[0])


if __name__ == '__main__':
    with contextlib.suppress(KeyboardInterrupt):
        main()
