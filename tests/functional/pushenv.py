"""A push-to-pipeline bench: the real API over HTTP, the real engine (run and
flush workers), and plain bare repos whose post-receive runs the same shim line
as a gitolite server (``python3 solum-git-hook post-receive --config ...``).
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

import sqlalchemy as sa

from solum_git import bootstrap
from solum_git.common import states
from solum_git.db import migration
from solum_git.db import models
from solum_git.engine import flush as flush_worker
from solum_git.engine import runs as run_worker
from solum_git.engine import service as engine_service
from solum_git import policies
from solum_git.provisioners import base as prov_base
from solum_git import services as services_pkg
from tests import helpers

HOOK = str(pathlib.Path(__file__).resolve().parents[2] / 'solum_git' / 'hook' / 'main.py')
ZERO = '0' * 40
SHIM = '''#!/bin/sh
python3 "%s" post-receive --config "%s" || true
'''


class BareServers(prov_base.Provisioner):
    """Stand-in provisioner: one directory of bare repos per stack, local paths."""

    name = 'bare'

    def __init__(self, top):
        super().__init__(None)
        self.top = pathlib.Path(top)

    def reserve(self, session, stack):
        stack.ssh_host, stack.ssh_port, stack.ssh_user = '127.0.0.1', None, 'git'
        # an address for http_url (and the clone URL a solum trigger hands Solum);
        # nothing serves it here. One per stack (unique with ssh_host), from its uuid.
        stack.http_port = 20000 + int(stack.uuid.replace('-', ''), 16) % 40000

    # the bench runs no stack worker: its tests make the repos themselves
    def create(self, stack, settings):
        self.stack_dir(stack.uuid).mkdir(parents=True, exist_ok=True)

    def check(self, stack):
        return prov_base.ServerState(states.ServerStatus.ACTIVE, ssh_host='127.0.0.1',
                                     ssh_user='git')

    def delete(self, stack):
        shutil.rmtree(self.stack_dir(stack.uuid), ignore_errors=True)

    def stack_dir(self, stack_uuid):
        return self.top / stack_uuid

    def repo_path(self, stack, repo_name):
        return str(self.stack_dir(stack.uuid) / ('%s.git' % repo_name))

    def flush(self, stack):
        config = self.stack_dir(stack.uuid) / 'hook.json'
        if not config.exists():
            return None
        return subprocess.run(['python3', HOOK, 'flush', '--config', str(config)],
                              capture_output=True, text=True, timeout=60).returncode


class PushEnv:
    def __init__(self, tmp_path, connection,
                 workers=(run_worker.RunWorker, flush_worker.FlushWorker),
                 config_file=None, **groups):
        self.tmp = pathlib.Path(tmp_path)
        groups.setdefault('engine', {}).setdefault('poll_interval', 0.05)
        self.conf = helpers.make_conf(self.tmp / 'state', connection, config_file,
                                      **groups)
        os.makedirs(self.conf.state_path, exist_ok=True)
        self.servers = BareServers(self.tmp / 'servers')
        root = bootstrap.build(self.conf, with_engine=False)
        self.db = root.db
        migration.upgrade(self.db.engine)
        self.engine = engine_service.Engine(self.conf, self.db, self.servers, workers)
        services = services_pkg.Services(self.conf, self.db,
                                         policies.make_enforcer(self.conf), self.engine,
                                         self.servers)
        self.root = bootstrap.Root(self.conf, self.db, services, self.engine, self.servers)
        self.api = None

    def start(self, engine=True):
        self.start_api()
        if engine:
            self.engine.start()
        return self

    def start_api(self, port=0):
        """The API on a real socket; ``port`` lets a restart keep the hook's URL."""
        self.api = helpers.ThreadedApi(self.root, port).start()
        return self.api

    def stop_api(self):
        if self.api is not None:
            self.api.stop()
        port, self.api = int(self.api.url.rsplit(':', 1)[1]), None
        return port

    def stop(self):
        if self.api is not None:
            self.api.stop()
        self.engine.stop()
        self.db.dispose()

    def client(self, project='project-a', user='alice'):
        return helpers.Client(self.api.url, project, user)

    def stack_row(self, project='project-a'):
        with self.db.reader() as session:
            return session.execute(sa.select(models.Stack).where(
                models.Stack.project_id == project)).scalar_one()

    def make_repo(self, client, name, callback_url=None):
        """API repo + its bare repo with the hook shim and settings; returns the view."""
        repo = client.post('/v1/infrastructure/repos', json={'name': name}).json()
        stack = self.stack_row(client.project_id)
        sdir = self.servers.stack_dir(stack.uuid)
        bare = sdir / ('%s.git' % name)
        subprocess.run(['git', 'init', '-q', '--bare', '-b', 'main', str(bare)], check=True)
        config = sdir / 'hook.json'
        config.write_text(json.dumps({
            'callback_url': callback_url or self.api.url + '/v1/hooks/post-receive',
            'stack_id': stack.uuid, 'secret': stack.hook_secret,
            'spool_dir': str(sdir / 'spool'), 'admin_user': 'solum-git'}))
        config.chmod(0o600)
        shim = bare / 'hooks' / 'post-receive'
        shim.write_text(SHIM % (HOOK, config))
        shim.chmod(0o755)
        repo['bare'] = str(bare)
        repo['hook_config'] = str(config)
        return repo

    def set_callback(self, repo, url):
        config = pathlib.Path(repo['hook_config'])
        settings = json.loads(config.read_text())
        settings['callback_url'] = url
        config.write_text(json.dumps(settings))


class WorkTree:
    """A developer's clone: commit files, push with gitolite's GL_* environment."""

    def __init__(self, path, remote, user='alice', repo_name=None):
        self.path = pathlib.Path(path)
        self.remote = remote
        # the git server's python3 is the system one (no pyenv shim in the way)
        self.env = dict(os.environ, GL_USER=user, PATH='/usr/sbin:/usr/bin:/sbin:/bin',
                        GL_REPO=repo_name or pathlib.Path(remote).name[:-4],
                        GIT_AUTHOR_NAME='Alice', GIT_AUTHOR_EMAIL='alice@example.com',
                        GIT_COMMITTER_NAME='Alice', GIT_COMMITTER_EMAIL='alice@example.com')
        subprocess.run(['git', 'init', '-q', '-b', 'main', str(self.path)], check=True)

    def git(self, *args, check=True):
        return subprocess.run(['git', '-C', str(self.path)] + list(args), env=self.env,
                              capture_output=True, text=True, check=check)

    def commit(self, files, message):
        for name, content in files.items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
            if name.endswith('.sh'):
                target.chmod(0o755)
        self.git('add', '-A')
        self.git('commit', '-q', '-m', message)
        return self.git('rev-parse', 'HEAD').stdout.strip()

    def push(self, branch='main', force=False):
        """git push; returns (stdout+stderr, seconds)."""
        start = time.monotonic()
        args = ['push', self.remote, 'HEAD:refs/heads/%s' % branch]
        if force:
            args.insert(1, '--force')
        done = self.git(*args)
        return done.stdout + done.stderr, time.monotonic() - start


def wait_for(predicate, timeout=30, interval=0.05, what='condition'):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError('timed out after %ss waiting for %s' % (timeout, what))


def wait_run(client, run_uri, statuses=('SUCCESS', 'FAILED', 'ERROR'), timeout=60):
    def ended():
        run = client.get(run_uri).json()
        return run if run['status'] in statuses else None
    return wait_for(ended, timeout, what='run %s in %s' % (run_uri, statuses))


def remote_lines(output):
    return [line.split('remote: ', 1)[1].rstrip() for line in output.splitlines()
            if line.startswith('remote: ')]


def python():
    return sys.executable
