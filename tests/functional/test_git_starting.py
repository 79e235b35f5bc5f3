"""A push to a new project's git server that is still starting: git says so (the
local provisioner's greeter holds the port), and the same push works once it runs.

The bootstrap is the real one behind a gate the test opens, so "still starting"
lasts as long as the test needs.
"""
import pathlib

from tests.functional import gitserver

BOOTSTRAP = pathlib.Path(__file__).resolve().parents[2] / 'images' / 'bootstrap.sh'


def test_a_push_while_the_server_starts_is_told_to_retry_then_works(tmp_path):
    gate = tmp_path / 'open'
    slow = tmp_path / 'slow-bootstrap.sh'
    slow.write_text('#!/bin/sh\nwhile [ ! -e "%s" ]; do sleep 0.1; done\n'
                    'exec /bin/sh "%s" "$@"\n' % (gate, BOOTSTRAP))
    with gitserver.running_api(tmp_path, extra={
            'local': {'bootstrap_script': str(slow)}}) as api:
        dev = gitserver.Dev(api, tmp_path, 'project-new', 'nina')
        repo = dev.create_repo('web')
        assert repo['status'] == 'BUILDING' and repo['git_url']

        def told():
            done = dev.ls_remote(repo['git_url'])
            assert done.returncode != 0
            # before the engine takes the stack up, nothing listens yet
            return 'server is starting, retry in a few seconds' in done.stderr and done
        done = gitserver.wait_for(told, timeout=60, what='the greeter')
        assert 'Connection refused' not in done.stderr
        assert dev.repo(repo['uuid'])['status'] == 'BUILDING'

        gate.touch()
        dev.wait_active(repo, timeout=120)
        dev.pin()
        done, work = dev.clone(repo['git_url'], 'web')
        assert done.returncode == 0, done.stderr
        dev.commit(work, 'first')
        pushed = dev.push(work)
        assert pushed.returncode == 0, pushed.stderr
