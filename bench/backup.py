"""Backups of a local git server: a full backup of N repos, increments after a
small push, push -> covered lag, and a restore of every repo.

    .venv/bin/python bench/backup.py                 # 1,000 repos, 20 pushes
    .venv/bin/python bench/backup.py --repos 200 --pushes 10     # quicker

Everything is real: the solum-git-api process (SQLite, engine in process,
the local provisioner, the local backup store), gitolite3 and sshd on
loopback, ``solum-backup`` over the admin SSH channel, bundles verified.

1. N repos are created over HTTP (each gets an empty full backup); one commit
   is written into each on the server's disk (as the stack's user: no N pushes
   over ssh first). Time until every repo's newest verified backup holds it.
2. ``--pushes`` small pushes with real git over ssh, one at a time: push end
   -> the newest backup of that repo holds the pushed commit (p50 / p95), and
   each increment's size.
3. Every repo directory is deleted on the server (the lease held so that no
   pass sees it half done), then a resync: time until every repo is back with
   its refs (read on disk), restored from its chain.
"""
import argparse
import contextlib
import os
import pathlib
import sqlite3
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from tests.functional import gitserver  # noqa: E402

PROJECT = 'bench-backup'


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]


def db(api):
    return contextlib.closing(sqlite3.connect(str(api.db_path), timeout=30))


def backed_up(api):
    """Repos whose newest backup holds a commit (the one written in step 1)."""
    with db(api) as conn:
        return conn.execute(
            "SELECT COUNT(*) FROM backups b WHERE b.verified = 1 AND b.refs != '{}' AND "
            "b.id = (SELECT MAX(id) FROM backups WHERE repo_uuid = b.repo_uuid)"
        ).fetchone()[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--repos', type=int, default=1000)
    parser.add_argument('--pushes', type=int, default=20)
    parser.add_argument('--max-lag', type=int, default=60)
    args = parser.parse_args()
    tmp = pathlib.Path(tempfile.mkdtemp(prefix='sg-bench-backup-'))
    with gitserver.stacks_dir() as stacks:
        api = gitserver.GitApi(tmp, stacks, extra={
            'backup': {'local_path': tmp / 'store', 'max_lag': args.max_lag},
            'engine': {'resync_interval': 3600}})
        api.start()
        try:
            run(api, tmp, args)
        finally:
            api.stop()


def run(api, tmp, args):
    dev = gitserver.Dev(api, tmp, PROJECT, 'bench')
    first = dev.wait_active(dev.create_repo('r0000'), timeout=120)
    names = ['r%04d' % i for i in range(args.repos)]
    for name in names[1:]:
        dev.create_repo(name)
    gitserver.wait_for(lambda: all(r['status'] == 'ACTIVE' for r in dev.api.get(
        '/v1/infrastructure/repos', params={'limit': 1000}).json()) and len(dev.api.get(
            '/v1/infrastructure/repos', params={'limit': 1000}).json()) >= min(
            args.repos, 1000), timeout=600, what='repos ACTIVE')
    stack = dev.pin()
    api.wait_applied(PROJECT)

    # 1. one commit in each, on disk, then every repo backed up in full
    # written while the lease is held: no backup pass sees half of them
    start = time.monotonic()
    with held(api):
        for i in range(0, len(names), 100):    # one sh -c argument is at most 128 KiB
            script = '\n'.join(
                'c=$(git --git-dir=repositories/%s.git commit-tree -m first '
                '$(printf "100644 blob %%s\\tREADME\\n" $(echo %s | git --git-dir='
                'repositories/%s.git hash-object -w --stdin) | git --git-dir=repositories/'
                '%s.git mktree)) && git --git-dir=repositories/%s.git update-ref '
                'refs/heads/main $c' % (n, n, n, n, n) for n in names[i:i + 100])
            api.as_git(stack['uuid'], 'export GIT_AUTHOR_NAME=b GIT_AUTHOR_EMAIL=b@b '
                       'GIT_COMMITTER_NAME=b GIT_COMMITTER_EMAIL=b@b\nset -e\n' + script)
        print('load: %s (%.1f s to write the commits)' % (load(), time.monotonic() - start))
        start = time.monotonic()
    gitserver.wait_for(lambda: backed_up(api) >= args.repos, timeout=3600,
                       interval=0.5, what='full backups')
    took = time.monotonic() - start
    print('the engine: %s' % engine_line(api, 'repos backed up in'))
    with db(api) as conn:
        sizes = [r[0] for r in conn.execute(
            "SELECT size_bytes FROM backups WHERE size_bytes > 0")]
    print('backup of %d repos, one commit each (a repo made empty has an empty full '
          'backup, so its first commit is an increment): %.1f s (%.0f ms per repo), '
          'bundle p50 %d B' % (args.repos, took, 1000 * took / args.repos, pct(sizes, 50)))

    # 2. small pushes: push end -> covered
    done, work = dev.clone(first['git_url'], 'work')
    assert done.returncode == 0, done.stderr
    lags, incr = [], []
    for i in range(args.pushes):
        sha = dev.commit(work, 'small %d' % i)
        pushed = dev.push(work)
        assert pushed.returncode == 0, pushed.stderr
        end = time.monotonic()

        def covered():
            with db(api) as conn:
                row = conn.execute(
                    "SELECT kind, size_bytes, refs FROM backups WHERE repo_uuid = ? "
                    "ORDER BY id DESC LIMIT 1", (first['uuid'],)).fetchone()
            return row if row and sha in row[2] else None
        row = gitserver.wait_for(covered, timeout=args.max_lag * 3, interval=0.01,
                                 what='push %d covered' % i)
        lags.append(time.monotonic() - end)
        if row[0] == 'incremental':
            incr.append(row[1])
    print('push -> covered (%d pushes, max_lag %d s): p50 %.2f s, p95 %.2f s, max %.2f s'
          % (args.pushes, args.max_lag, pct(lags, 50), pct(lags, 95), max(lags)))
    if incr:
        print('increment after a small push: p50 %d B, p95 %d B (%d increments)'
              % (pct(incr, 50), pct(incr, 95), len(incr)))

    # 3. every repo lost, then restored
    home = api.home(stack['uuid'])
    want = {n: api.as_git(stack['uuid'], 'git --git-dir=repositories/%s.git rev-parse main'
                          % n).strip() for n in names[:20]}
    with held(api):
        for i in range(0, len(names), 200):
            api.as_git(stack['uuid'], 'rm -rf ' + ' '.join(
                'repositories/%s.git' % n for n in names[i:i + 200]))
    start = time.monotonic()
    api.resync(dev.api, stack['uuid'])

    def restored():
        heads = [(home / 'repositories' / ('%s.git' % n) / 'solum-git-repo').exists()
                 for n in names]
        return all(heads)
    gitserver.wait_for(restored, timeout=3600, interval=0.2, what='every repo back')
    api.wait_applied(PROJECT, timeout=3600)
    took = time.monotonic() - start
    for n, sha in want.items():
        got = api.as_git(stack['uuid'], 'git --git-dir=repositories/%s.git rev-parse main'
                         % n).strip()
        assert got == sha, (n, got, sha)
    print('restore of %d repos (each from its chain, local store): %.1f s from the '
          'resync request to every repo back and the config applied' % (args.repos, took))
    print('the engine: %s' % engine_line(api, 'repos restored in'))
    print('load: %s' % load())


def engine_line(api, words):
    """The engine's newest log line with ``words`` (its own timing of the step)."""
    with open(api.log_path) as f:
        found = [line.split(': ', 1)[1].strip() for line in f if words in line]
    return max(found, key=lambda line: int(line.split()[0])) if found else '?'


def load():
    return ' '.join(open('/proc/loadavg').read().split()[:3])


@contextlib.contextmanager
def held(api):
    def take():
        with db(api) as conn:
            n = conn.execute("UPDATE stacks SET lease_owner = 'bench', lease_expires = "
                             "'2999-01-01 00:00:00.000000' WHERE project_id = ? AND "
                             "lease_owner IS NULL", (PROJECT,)).rowcount
            conn.commit()
            return n
    gitserver.wait_for(take, timeout=600, what='the lease')
    try:
        yield
    finally:
        api.hold_lease(PROJECT, hold=False)


if __name__ == '__main__':
    os.environ.setdefault('LANG', 'C')
    main()
