"""What the pre-receive guard (protected branches, size quota) costs a push.

One real solum-git-api (engine in process, local provisioner), a gitolite3
server behind its own sshd, real git. A protected-branch rule that matches
the pushed branch and lets it through (push RW, so the guard reads the rules
and asks git whether the push is a fast-forward) and a size quota well above
the repo (the guard sums objects/) are set through the API. Pushes of one
small commit then alternate between three states of the server, by renaming
the rendered files away and back (as bench/hook.py renames the hook):

* off: no rules file, no quota file (the shim exits before python starts);
* on: rules and quota, under the quota (the common case);
* near: rules and a quota below what objects/ holds on disk (unreachable
  objects of a deleted branch) but above what is reachable: the guard then
  measures the reachable size before and after (two ``git rev-list``).

The figures are the ratios of the medians to "off" (the post-receive hook is
on in all three). Target: at most 1.10 for "on" (DESIGN.md section 6).

    .venv/bin/python bench/guard.py                # 30 pushes per state
    .venv/bin/python bench/guard.py --pushes 40 --json out.json
"""
import argparse
import os
import pathlib
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import hook as hook_bench  # noqa: E402
from solum_git.server import policy  # noqa: E402
from tests import helpers  # noqa: E402

TARGET_RATIO = 1.10
STATES = ('off', 'on', 'near')


class Bench(hook_bench.Bench):
    def setup(self):
        api, repo = self.dev.api, self.repo
        self.push('main')
        # a bulk branch pushed and deleted: its objects stay on disk, unreachable
        self.dev.git('checkout', '-q', '-b', 'bulk', cwd=self.work)
        (self.work / 'bulk.bin').write_bytes(os.urandom(2 * policy.MIB))
        self.dev.commit(self.work, 'bulk', {})
        assert self.dev.git('push', '-q', 'origin', 'bulk', cwd=self.work).returncode == 0
        assert self.dev.git('push', '-q', 'origin', ':bulk', cwd=self.work).returncode == 0
        done = self.dev.git('checkout', '-q', 'main', cwd=self.work)
        assert done.returncode == 0, done.stderr
        r = api.put('/v1/infrastructure/repos/%s/protected_branches/bench' % repo['uuid'],
                    json={'push': 'RW'})
        assert r.status_code == 200, r.text
        admin = helpers.Client(self.api.url, 'admin-project', 'bench-admin',
                               roles=['admin'])
        r = admin.put('/v1/infrastructure/quotas/bench-project', json={'repo_size_mb': 100})
        assert r.status_code == 200, r.text
        self.api.wait_applied('bench-project')
        stack = self.dev.stack()
        self.base = self.api.home(stack['uuid']) / '.gitolite'
        self.quota = self.base / policy.QUOTA_FILE
        self.rules = self.base / policy.branches_file('bench')
        assert self.quota.exists() and self.rules.exists()
        self.texts = {'quota': self.quota.read_text(), 'rules': self.rules.read_text()}

    def state(self, name):
        for path in (self.quota, self.rules):
            if path.exists():
                path.unlink()
        if name == 'off':
            return
        self.rules.write_text(self.texts['rules'])
        # "near": 1 MiB is under the 2 MiB of dropped objects on disk, over what
        # the refs reach
        size = 100 * policy.MIB if name == 'on' else policy.MIB
        self.quota.write_text(policy.quota_text(size))

    def run(self, pushes):
        def check(_state, output):
            assert 'refused' not in output, output
        times = self.alternate(STATES, pushes, self.state, check)
        self.state('on')
        return times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--pushes', type=int, default=30, help='pushes per state')
    parser.add_argument('--json', help='also write the figures to this file')
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix='sg-bench-guard-') as tmp:
        bench = Bench(tmp)
        try:
            bench.setup()
            times = bench.run(args.pushes)
        finally:
            bench.close()
    figures = {s: hook_bench.summary(times[s]) for s in STATES}
    result = {'push_s': figures, 'cpus': os.cpu_count(), 'load_avg': os.getloadavg()}
    for name in STATES:
        f = figures[name]
        ratio = f['p50'] / figures['off']['p50']
        result['ratio_%s' % name] = ratio
        print('push, guard %-4s: p50 %4.0f ms  p95 %4.0f ms  (n=%d)  ratio %.3f'
              % (name, f['p50'] * 1000, f['p95'] * 1000, f['n'], ratio))
    met = result['ratio_on'] <= TARGET_RATIO
    print('target for "on": <= %.2f: %s' % (TARGET_RATIO, 'met' if met else 'NOT met'))
    return hook_bench.finish(result, args.json)


if __name__ == '__main__':
    sys.exit(main())
