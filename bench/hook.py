"""Push to pipeline: what the post-receive hook costs a push, and how soon a run starts.

One real solum-git-api (engine in process, local provisioner): a gitolite3
server behind its own sshd, a developer key made by ssh-keygen, real git.

1. Hook overhead: pushes of one small commit through gitolite, alternately
   with the hook on and off (off = the shim finds no hook program, as on a
   server without solum-git's hook), to a branch no trigger matches; the
   ratio of the medians (target <= 1.10).
2. Push end -> run RUNNING: pushes to main with a local trigger; the time
   from ``git push`` returning to the run's ``started_at`` (target p95 < 1 s).
   The hook posts before git push returns, so a run may start even earlier
   (a negative figure); the time from the push record to RUNNING is shown too.

    .venv/bin/python bench/hook.py                 # 30 + 30 pushes, 20 runs
    .venv/bin/python bench/hook.py --pushes 50 --runs 40 --json out.json
"""
import argparse
import datetime
import json
import os
import pathlib
import re
import statistics
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.functional import gitserver  # noqa: E402

TARGET_RATIO = 1.10
TARGET_P95_S = 1.0


def pct(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100.0 * (len(ordered) - 1))))]


def summary(values):
    return {'n': len(values), 'p50': statistics.median(values), 'p95': pct(values, 95),
            'min': min(values), 'max': max(values)}


def epoch(stamp):
    return datetime.datetime.fromisoformat(stamp).replace(
        tzinfo=datetime.timezone.utc).timestamp()


class Bench:
    def __init__(self, tmp):
        self.tmp = pathlib.Path(tmp)
        self.stacks = tempfile.mkdtemp(prefix='sg-bench-stacks-')
        os.chmod(self.stacks, 0o711)
        # the engine's default poll interval (the tests' 0.05 s costs the API CPU)
        self.api = gitserver.GitApi(self.tmp, self.stacks,
                                    extra={'engine': {'poll_interval': 0.2}})
        self.api.start()
        self.dev = gitserver.Dev(self.api, self.tmp, 'bench-project', 'bench')
        self.repo = self.dev.wait_active(self.dev.create_repo('bench'), timeout=120)
        stack = self.dev.pin()
        self.hook = self.api.home(stack['uuid']) / '.solum-git' / 'bin' / 'solum-git-hook'
        assert self.hook.exists(), 'the bootstrap did not install the hook'
        done, self.work = self.dev.clone(self.repo['git_url'], 'work')
        assert done.returncode == 0, done.stderr
        self.n = 0

    def push(self, branch):
        self.n += 1
        self.dev.commit(self.work, 'change %d' % self.n, {'f.txt': str(self.n)})
        start = time.monotonic()
        done = self.dev.git('push', 'origin', 'HEAD:refs/heads/%s' % branch, cwd=self.work)
        end = time.time()
        assert done.returncode == 0, done.stderr
        return time.monotonic() - start, end, done.stderr

    def set_hook(self, on):
        off = self.hook.with_name('solum-git-hook.off')
        if on and off.exists():
            off.rename(self.hook)
        elif not on and self.hook.exists():
            self.hook.rename(off)

    def alternate(self, states, pushes, set_state, check):
        """``pushes`` pushes to "bench" in each of ``states``, in turn
        (``set_state(state)`` before each, ``check(state, output)`` after);
        their seconds by state."""
        times = {state: [] for state in states}
        self.push('bench')  # warm: the branch exists afterwards
        for i in range(pushes * len(states)):
            state = states[i % len(states)]
            set_state(state)
            seconds, _end, output = self.push('bench')
            check(state, output)
            times[state].append(seconds)
        return times

    def overhead(self, pushes):
        def check(on, output):
            if on:
                assert 'push recorded' in output, output
            else:
                assert 'solum-git' not in output, output
        times = self.alternate((True, False), pushes, self.set_hook, check)
        self.set_hook(True)
        return times

    def to_running(self, runs):
        assert self.dev.api.post('/v1/infrastructure/repos/%s/triggers' % self.repo['uuid'],
                                 json={'type': 'local', 'branches': 'main',
                                       'config': {'test_cmd': 'true'}}).status_code == 201
        after_push, after_record = [], []
        for _ in range(runs):
            _seconds, end, output = self.push('main')
            uri = re.search(r'local run for main queued: (\S+)', output).group(1)
            run = gitserver.wait_for(lambda: (lambda r: r if r['status'] in (
                'SUCCESS', 'FAILED', 'ERROR') else None)(self.dev.api.get(uri).json()),
                timeout=60, interval=0.02, what='the run')
            assert run['status'] == 'SUCCESS', run
            started = epoch(run['started_at'])
            after_push.append(started - end)
            after_record.append(started - epoch(run['created_at']))
        return after_push, after_record

    def close(self):
        self.api.stop()
        import shutil
        shutil.rmtree(self.stacks, ignore_errors=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--pushes', type=int, default=30,
                        help='pushes with the hook on, and as many with it off')
    parser.add_argument('--runs', type=int, default=20, help='pushes that start a run')
    parser.add_argument('--json', help='also write the figures to this file')
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix='sg-bench-hook-') as tmp:
        bench = Bench(tmp)
        try:
            times = bench.overhead(args.pushes)
            after_push, after_record = bench.to_running(args.runs)
        finally:
            bench.close()
    on, off = summary(times[True]), summary(times[False])
    ratio = on['p50'] / off['p50']
    result = {'push_hook_on_s': on, 'push_hook_off_s': off, 'ratio_p50': ratio,
              'push_end_to_running_s': summary(after_push),
              'push_record_to_running_s': summary(after_record),
              'cpus': os.cpu_count(), 'load_avg': os.getloadavg()}
    print('push through gitolite, hook on : p50 %.0f ms  p95 %.0f ms  (n=%d)'
          % (on['p50'] * 1000, on['p95'] * 1000, on['n']))
    print('push through gitolite, hook off: p50 %.0f ms  p95 %.0f ms  (n=%d)'
          % (off['p50'] * 1000, off['p95'] * 1000, off['n']))
    print('hook overhead ratio (p50 on / p50 off): %.3f  (target <= %.2f: %s)'
          % (ratio, TARGET_RATIO, 'met' if ratio <= TARGET_RATIO else 'NOT met'))
    p = result['push_end_to_running_s']
    print('git push returned -> run RUNNING: p50 %.0f ms  p95 %.0f ms  max %.0f ms  '
          '(target p95 < %.0f ms: %s)' % (p['p50'] * 1000, p['p95'] * 1000, p['max'] * 1000,
                                          TARGET_P95_S * 1000,
                                          'met' if p['p95'] < TARGET_P95_S else 'NOT met'))
    r = result['push_record_to_running_s']
    print('push recorded -> run RUNNING:     p50 %.0f ms  p95 %.0f ms  max %.0f ms'
          % (r['p50'] * 1000, r['p95'] * 1000, r['max'] * 1000))
    return finish(result, args.json)


def finish(result, json_path):
    """The machine's line, the figures to ``json_path`` if asked; the exit status."""
    print('machine: %d cpus, load average %.2f %.2f %.2f' % ((os.cpu_count(),)
                                                             + os.getloadavg()))
    if json_path:
        with open(json_path, 'w') as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == '__main__':
    sys.exit(main())
