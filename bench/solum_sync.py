"""What ``solum-sync create`` costs per repo on the git server: processes and time.

The command is what images/bootstrap.sh installs: the shim that runs the
server programs of this tree (solum_git/server, as the zipapp shipped to the
servers), or, for a bootstrap.sh of before issue 10, the shell program it
carried inside. It runs as its admin would run it, in a throwaway home: N new
repos in one call, then the same N again (repos made already: checked, HEAD
set).
Processes are counted with ``strace -f`` (execve and forks, the cost that
grows with N), time is the median of ``--runs`` calls without strace, and so
is the CPU time of the call's processes (user + system: it depends less on
how busy the machine is).

    .venv/bin/python bench/solum_sync.py                # 200 repos, 3 runs
    .venv/bin/python bench/solum_sync.py --repos 1000 --runs 5
    .venv/bin/python bench/solum_sync.py --script OLD/bootstrap.sh   # the shell one
"""
import argparse
import os
import pathlib
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = pathlib.Path(__file__).resolve().parent.parent
START = re.compile(r'^put 700 "\$GIT_HOME/local/commands/solum-sync" <<\'EOF\'$')


def extract(bootstrap, top):
    """The solum-sync program: the shell one inside an old bootstrap, or the shim."""
    lines, inside = [], False
    for line in pathlib.Path(bootstrap).read_text().splitlines():
        if inside and line == 'EOF':
            break
        if inside:
            lines.append(line)
        inside = inside or bool(START.match(line))
    if lines:
        return '\n'.join(lines) + '\n'
    sys.path.insert(0, str(ROOT))
    from solum_git.server import package
    programs = package.write_archive(os.path.join(top, package.SERVER_NAME))
    # bootstrap.sh's shim, with the zipapp where the bench keeps it
    return ('#!/bin/sh\nexec python3 -I -S "%s" solum-sync "$@"\n' % programs)


def home(top):
    path = pathlib.Path(tempfile.mkdtemp(dir=top))
    (path / '.solum-git').mkdir()
    (path / '.solum-git' / 'admin-user').write_text('admin\n')
    (path / 'repositories').mkdir()
    return path


def run(script, path, args, trace=None):
    env = {'HOME': str(path), 'GL_USER': 'admin', 'PATH': os.environ['PATH'], 'LANG': 'C'}
    argv = ['sh', str(script), 'create'] + args
    if trace:
        argv = ['strace', '-f', '-qq', '-e', 'trace=execve,clone,clone3,fork,vfork',
                '-o', str(trace)] + argv
    start = time.monotonic()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    took = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if done.returncode != 0 or 'failed' in done.stdout:
        raise SystemExit('solum-sync create failed: %s %s'
                         % (done.stdout[-500:], done.stderr[-500:]))
    return took, cpu


def processes(trace):
    text = pathlib.Path(trace).read_text()
    return (len(re.findall(r'\bexecve\(', text)),
            len(re.findall(r'\b(?:clone3?|v?fork)\(', text)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repos', type=int, default=200)
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--script', default=str(ROOT / 'images' / 'bootstrap.sh'))
    opts = parser.parse_args()
    top = tempfile.mkdtemp(prefix='sg-bench-sync-')
    try:
        script = pathlib.Path(top) / 'solum-sync'
        script.write_text(extract(opts.script, top))
        args = [part for i in range(opts.repos)
                for part in ('r%05d' % i, 'main', str(uuid.uuid4()))]
        counted = {}
        path = home(top)
        trace = pathlib.Path(top) / 'trace'
        run(script, path, args, trace)
        counted['new'] = processes(trace)
        run(script, path, args, trace)
        counted['made already'] = processes(trace)
        times = {'new': [], 'made already': []}
        cpus = {'new': [], 'made already': []}
        for _ in range(opts.runs):
            path = home(top)
            for phase in ('new', 'made already'):
                took, cpu = run(script, path, args)
                times[phase].append(took)
                cpus[phase].append(cpu)
            shutil.rmtree(path)
        print('solum-sync create, %d repos per call (%s)' % (opts.repos, opts.script))
        for phase in ('new', 'made already'):
            execs, forks = counted[phase]
            median = statistics.median(times[phase])
            cpu = statistics.median(cpus[phase])
            print('  %-13s %5.2f execve, %5.2f forks per repo; %6.1f ms per repo, '
                  '%6.1f ms CPU (medians of %d)'
                  % (phase, execs / opts.repos, forks / opts.repos,
                     median * 1000 / opts.repos, cpu * 1000 / opts.repos, opts.runs))
        print('  load average at the end: %.2f' % os.getloadavg()[0])
    finally:
        shutil.rmtree(top, ignore_errors=True)


if __name__ == '__main__':
    main()
