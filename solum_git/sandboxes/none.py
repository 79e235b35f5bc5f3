"""No sandbox: the command runs as the service itself (a single trusted developer).

It sees and may change everything the service can (database, config, keys,
every project's repos and runs) and no limit applies but the run's wall time
and log size.
"""
import os

from solum_git.sandboxes import base


class NoSandbox(base.Sandbox):
    name = 'none'
    isolated = False

    def launch(self, job: base.Job) -> base.Launch:
        src, home = base.box_paths(job.box)
        os.makedirs(home, exist_ok=True)
        env = dict(job.env, HOME=home)
        env.setdefault('PATH', os.environ.get('PATH') or base.SYSTEM_PATH)
        return base.Launch(job.argv, env, os.path.join(job.box, job.cwd))

    def describe(self, job: base.Job) -> str:
        return ('no sandbox ([sandbox] driver = none): the command runs as the service '
                'itself, unconfined')
