"""Git over smart HTTP vs SSH on a local git server, and the HTTP front's memory.

    .venv/bin/python bench/git_http.py              # the figures in docs/benchmarks.rst
    .venv/bin/python bench/git_http.py --big-mb 10  # quicker

Everything is real: the solum-git-api process (SQLite, engine in process, the
local provisioner), gitolite3 behind sshd and the HTTP front on loopback, git
clients over ssh:// and http:// (an RW deploy token in the URL).

1. clone of a small repo (one commit) and of a big one (--big-mb MB of random,
   incompressible files in one commit): HTTP and SSH, one run each, and the
   ratio HTTP / SSH.
2. push of one small commit, and of a --big-mb MB commit: HTTP vs SSH.
3. the HTTP front's memory when idle (RSS and PSS of its process), per server.
"""
import argparse
import os
import pathlib
import shutil
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.functional import gitserver  # noqa: E402

PROJECT = 'bench-http'


def timed(fn):
    started = time.monotonic()
    done = fn()
    took = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    return took


def big_commit(dev, work, megabytes, tag):
    for i in range(megabytes):
        (work / ('%s-%03d.bin' % (tag, i))).write_bytes(os.urandom(1024 * 1024))
    return dev.commit(work, 'big %s' % tag, files={})


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--big-mb', type=int, default=50)
    args = parser.parse_args()
    tmp = pathlib.Path(tempfile.mkdtemp(prefix='bench-http-'))
    with gitserver.stacks_dir() as stacks:
        api = gitserver.GitApi(tmp, stacks)
        api.start()
        try:
            run(api, tmp, stacks, args.big_mb)
        finally:
            api.stop()
            shutil.rmtree(tmp, ignore_errors=True)


def run(api, tmp, stacks, big_mb):
    dev = gitserver.Dev(api, tmp, PROJECT, 'alice')
    small = dev.create_repo('small')
    big = dev.create_repo('big')
    for repo in (small, big):
        dev.wait_active(repo)
    dev.pin()
    token = dev.api.post('/v1/infrastructure/repos/%s/deploy_tokens' % small['uuid'],
                         json={'name': 'bench', 'permission': 'RW'}).json()
    token_big = dev.api.post('/v1/infrastructure/repos/%s/deploy_tokens' % big['uuid'],
                             json={'name': 'bench', 'permission': 'RW'}).json()
    api.wait_applied(PROJECT)
    small, big = dev.repo(small['uuid']), dev.repo(big['uuid'])
    urls = {'small': (small['git_url'], token['clone_url']),
            'big': (big['git_url'], token_big['clone_url'])}

    # seed: one small commit; one big commit
    for name in ('small', 'big'):
        done, work = dev.clone(urls[name][0], 'seed-' + name)
        assert done.returncode == 0, done.stderr
        dev.commit(work, 'first')
        if name == 'big':
            big_commit(dev, work, big_mb, 'seed')
        assert dev.push(work).returncode == 0
    print('machine load before: %s' % open('/proc/loadavg').read().split()[:3], flush=True)

    print('\n1. clone (one run each)')
    for name in ('small', 'big'):
        took = {}
        for proto, url in zip(('ssh', 'http'), urls[name]):
            dest = tmp / ('clone-%s-%s' % (name, proto))
            took[proto] = timed(lambda: dev.git('clone', '-q', url, str(dest)))
        print('   %-5s (%s): ssh %.3f s, http %.3f s, http/ssh %.2f'
              % (name, '1 commit' if name == 'small' else '%d MB' % big_mb,
                 took['ssh'], took['http'], took['http'] / took['ssh']), flush=True)

    print('\n2. push (one run each)')
    for name in ('small', 'big'):
        took = {}
        for proto, url in zip(('ssh', 'http'), urls[name]):
            work = tmp / ('clone-%s-%s' % (name, proto))
            dev.git('pull', '-q', '--rebase', url, 'main', cwd=work)
            if name == 'small':
                dev.commit(work, 'one more %s' % proto)
            else:
                big_commit(dev, work, big_mb, proto)
            took[proto] = timed(lambda: dev.git('push', '-q', url, 'HEAD:main', cwd=work))
        print('   %-5s (%s): ssh %.3f s, http %.3f s, http/ssh %.2f'
              % (name, 'one small commit' if name == 'small' else '%d MB commit' % big_mb,
                 took['ssh'], took['http'], took['http'] / took['ssh']), flush=True)

    print('\n3. the HTTP front, idle')
    time.sleep(2)
    for row in api.stack_rows():
        pidfile = pathlib.Path(stacks) / row['uuid'] / 'http' / 'http.pid'
        pid = int(pidfile.read_text())
        rss, pss = gitserver.memory_mb(pid)
        print('   stack %s: front pid %d RSS %.1f MB, PSS %.1f MB' % (row['uuid'][:8], pid,
                                                                      rss, pss))


if __name__ == '__main__':
    main()
