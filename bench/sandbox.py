#!/usr/bin/env python3
"""The sandbox's cost per run: the local runner's own code (checkout of one
commit from a local bare repo, hand-over, ``test_cmd = true``) with
``[sandbox] driver = bwrap`` against ``none``, alternating in one process, so
both see the same machine. Also the command alone (``process.run_confined``).
Run from the source tree (as root: project uid, cgroups; or as an ordinary user):

    .venv/bin/python bench/sandbox.py [--runs N]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

from solum_git.pipelines import base  # noqa: E402
from solum_git.pipelines import local  # noqa: E402
from solum_git.pipelines import process  # noqa: E402
from solum_git.pipelines import source  # noqa: E402
from solum_git.sandboxes import base as sandbox_base  # noqa: E402
from tests import helpers  # noqa: E402

UID = 1999999900


def _repo(top):
    work, bare = os.path.join(top, 'work'), os.path.join(top, 'app.git')
    env = dict(os.environ, GIT_AUTHOR_NAME='b', GIT_AUTHOR_EMAIL='b@x',
               GIT_COMMITTER_NAME='b', GIT_COMMITTER_EMAIL='b@x')
    subprocess.run(['git', 'init', '-q', '-b', 'main', work], check=True)
    for i in range(20):
        with open(os.path.join(work, 'f%d.py' % i), 'w') as f:
            f.write('x = %d\n' % i * 50)
    subprocess.run(['git', '-C', work, 'add', '-A'], check=True)
    subprocess.run(['git', '-C', work, 'commit', '-qm', 'one'], check=True, env=env)
    subprocess.run(['git', 'clone', '-q', '--bare', work, bare], check=True)
    commit = subprocess.run(['git', '-C', bare, 'rev-parse', 'main'], check=True,
                            capture_output=True, text=True).stdout.strip()
    return bare, commit


VARIANTS = {'none': {'driver': 'none'}, 'bwrap': {'driver': 'bwrap'},
            # as root: what the memory and pids cgroups cost
            'bwrap, no cgroups': {'driver': 'bwrap', 'cgroups': False}}


def _runner(top, name):
    conf = helpers.make_conf(os.path.join(top, 'state-%d' % len(os.listdir(top))),
                             'sqlite://', sandbox=VARIANTS[name])
    return local.LocalRunner(conf)


def _one_run(runner, bare, commit):
    run_uuid = str(uuid.uuid4())
    work_dir = os.path.join(runner.conf.state_path, 'runs', run_uuid)
    log = base.RunLog(os.path.join(work_dir, 'log'), 1024 * 1024)
    spec = base.RunSpec(
        uuid=run_uuid, type='local', ref='refs/heads/main', before='0' * 40,
        commit=commit, attempt=1,
        repo={'uuid': 'r', 'name': 'app', 'project_id': 'bench'},
        push={}, trigger={'uuid': 't', 'config': {'test_cmd': 'true'}},
        source=source.Source(bare), work_dir=work_dir, log=log,
        stopping=threading.Event(), sandbox_uid=UID)
    start = time.monotonic()
    result = runner.execute(spec)
    took = time.monotonic() - start
    assert result.status == base.SUCCESS, (result.reason, log.text())
    shutil.rmtree(work_dir)
    return took


def _one_command(runner, box):
    job = sandbox_base.Job('bench', ['true'], box, {}, UID, network=True,
                           limits=sandbox_base.Limits.from_conf(runner.conf.sandbox))
    log = base.RunLog(os.path.join(os.path.dirname(box), 'log'), 1024 * 1024)
    start = time.monotonic()
    code = process.run_confined(runner.sandbox, job, runner.spawner, log, 60,
                                threading.Event(), 2.0)
    took = time.monotonic() - start
    assert code == 0, log.text()
    return took


def _p(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def _report(what, times):
    none = times['none']
    print('%s (%d each, alternating):' % (what, len(none)))
    print('  %-18s p50 %6.1f ms  p95 %6.1f ms' % (
        'none', 1000 * statistics.median(none), 1000 * _p(none, 0.95)))
    for name, values in times.items():
        if name == 'none':
            continue
        print('  %-18s p50 %6.1f ms  p95 %6.1f ms  added p50 %5.1f ms, p95 %5.1f ms, '
              'ratio (p50) %.2f' % (
                  name, 1000 * statistics.median(values), 1000 * _p(values, 0.95),
                  1000 * (statistics.median(values) - statistics.median(none)),
                  1000 * (_p(values, 0.95) - _p(none, 0.95)),
                  statistics.median(values) / statistics.median(none)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--runs', type=int, default=50)
    args = parser.parse_args()
    top = tempfile.mkdtemp(prefix='sandbox-bench-')
    names = list(VARIANTS) if os.geteuid() == 0 else ['none', 'bwrap']
    runners = {name: _runner(top, name) for name in names}
    try:
        ok, how = local.check_sandbox(runners['bwrap'].conf)
        assert ok, how
        print('uid %d (%s); %s' % (os.geteuid(), 'root' if os.geteuid() == 0 else
                                   'not root', how))
        bare, commit = _repo(top)
        runs = {name: [] for name in names}
        commands = {name: [] for name in names}
        boxes = {}
        for name, runner in runners.items():
            boxes[name] = os.path.join(top, 'box-%s' % name)
            for path in sandbox_base.box_paths(boxes[name]):
                os.makedirs(path)
            runner.sandbox.hand_over(boxes[name], UID)
            _one_run(runner, bare, commit)  # warm: imports, page cache
        for _ in range(args.runs):
            for name, runner in runners.items():
                runs[name].append(_one_run(runner, bare, commit))
                commands[name].append(_one_command(runner, boxes[name]))
        _report('a local run (checkout + test_cmd true)', runs)
        _report('the command alone (true)', commands)
    finally:
        for runner in runners.values():
            runner.close()
        shutil.rmtree(top, ignore_errors=True)


if __name__ == '__main__':
    main()
