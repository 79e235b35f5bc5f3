"""What the sandbox tests share: pushing one local trigger per project, and
looking at the host's processes afterwards."""
import os
import re

import sqlalchemy as sa

from solum_git.db import models
from tests.functional import pushenv


def processes_of(uid):
    """[(pid, state, cmdline)] of every process on the host whose real uid is ``uid``."""
    found = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/status' % entry) as f:
                status = f.read()
            with open('/proc/%s/cmdline' % entry, 'rb') as f:
                cmdline = f.read().replace(b'\0', b' ').decode('utf-8', 'replace').strip()
        except OSError:
            continue
        fields = dict(line.split(':', 1) for line in status.splitlines() if ':' in line)
        if int(fields['Uid'].split()[0]) == uid:
            found.append((int(entry), fields['State'].split()[0], cmdline))
    return found


def no_processes_left(uid, timeout=5):
    """True once no process of ``uid`` is left (a killed sandbox takes a moment)."""
    try:
        pushenv.wait_for(lambda: not processes_of(uid), timeout=timeout,
                         what='the processes of uid %d to end' % uid)
    except AssertionError:
        return False
    return True


def sandbox_uid(env, project):
    with env.db.reader() as session:
        return session.execute(sa.select(models.SandboxUid.uid).where(
            models.SandboxUid.project_id == project)).scalar_one()


def push_local(env, tmp, project, files, config, name='app'):
    """A repo of ``project`` with a local trigger, one commit of ``files`` pushed.

    Returns the run's URI (the run is queued, not waited for).
    """
    client = env.client(project=project, user='dev-%s' % project)
    repo = env.make_repo(client, name)
    r = client.post('/v1/infrastructure/repos/%s/triggers' % repo['uuid'],
                    json={'type': 'local', 'config': config})
    assert r.status_code == 201, r.text
    tree = pushenv.WorkTree(tmp / ('wt-%s-%s' % (project, name)), repo['bare'])
    tree.commit(files, 'probe')
    output, _seconds = tree.push()
    return client, re.search(r'local run for main queued: (\S+)', output).group(1)


def finished(client, uri, timeout=90):
    run = pushenv.wait_run(client, uri, timeout=timeout)
    run['log'] = client.get(run['log_uri']).text
    return run
