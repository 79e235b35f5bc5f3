"""Real Solum 15.0.0 API on loopback, without Keystone: the solum pipeline's test peer.

Run it with the Solum virtualenv's python (tools/solum-testenv.sh makes it):

    .venv-solum/bin/python tools/solum_harness.py --port PORT

It prints ``READY <port>`` once it serves. Solum 15.0.0 does not run as it
ships on the OpenStack 2023.2 stack; this harness patches, at start-up only
and in this process only, exactly these known problems:

1. Its ``WorkflowsController`` and ``WorkflowController`` call
   ``super().__init__(self)`` (TypeError: every ``/v1/apps/{id}/workflows``
   request answers 405). Their ``__init__`` is replaced by one that only sets
   the attributes the originals set.
2. Keystone's auth_token middleware is left out, while
   ``enable_authentication = True`` keeps Solum's context hook building the
   request context from ``X-User-Id`` / ``X-Project-Id`` / ``X-Roles`` (with
   authentication off every controller answers 500).
3. ``keystone_version = 2`` so creating an app makes no Keystone trust, and
   ``transport_url = fake://`` so the API casts to no worker.
4. Its database is ``sqlite://`` in memory with the tables created from its
   models (its migrations fail on SQLite; a file database locks on workflow
   create), on one shared connection (its per-thread pool would give every
   green thread an empty database of its own).

With ``--worker DIR`` the same process also serves the worker's RPC topic on
that (in-process) ``fake://`` transport, so every workflow the API casts is
received as Solum's worker receives it, and its source is fetched by Solum's
own code: ``solum.worker.app_handlers.default.DockerHandler._prepare`` (which
picks the revision from the git_info the API built and calls ``_clone_repo``).
Left out of Solum's worker, and why:

5. ``worker.handlers.default.Handler.launch_workflow`` does not take the
   ``du_id`` the API casts (TypeError), and needs a built language pack; the
   endpoint here goes straight to the fetch of ``_do_unittest``'s
   ``unittest_app`` (``_prepare``), then stops: no language pack, no build.
6. ``BaseHandler._get_tenant_logger`` calls ``TenantLogger`` with one
   argument short (TypeError); the endpoint builds the logger with the
   workflow's id, as its signature wants.
7. ``docker.APIClient`` is replaced by ``HostDocker``, the only stand-in: it
   runs each container's command on this host (``sh -c`` for a Dockerfile's
   ``CMD``), in bubblewrap with the container's bind (``{destination}:/tmp``),
   on the host's network; its output lines are text, as Solum's code expects
   (``line.startswith('sha=')``).

8. ``solum.common.context.RequestContext.from_dict`` (how the worker reads
   the context of a cast) calls ``inspect.getargspec``, gone in Python 3.11;
   ``inspect.getfullargspec`` stands in for it (the same ``.args``).

Each fetch appends one JSON line to ``DIR/fetches.jsonl``: the git_info
Solum built and the sha ``_clone_repo`` reported. While ``DIR/hold`` exists,
fetches wait (a test lands a second push before the first build clones).
"""
import argparse
import json
import os
import sys
import threading
import uuid


def _patch_workflow_controllers():
    from solum.api.controllers.v1 import workflow

    def collection_init(self, app_id):
        self.app_id = app_id

    def item_init(self, app_id, wf_id):
        self.app_id = app_id
        self.wf_id = wf_id

    workflow.WorkflowsController.__init__ = collection_init
    workflow.WorkflowController.__init__ = item_init


class HostDocker:
    """The docker client, as far as Solum's app_handlers use it: commands on this host."""

    def __init__(self, base_url=None, **_kw):
        self.images = {}
        self.containers = {}

    def build(self, path=None, dockerfile=None, fileobj=None, tag=None, **_kw):
        text = fileobj.read().decode() if fileobj is not None else ''
        cmd = [line[4:] for line in text.splitlines() if line.startswith('CMD ')]
        self.images[tag] = cmd[-1] if cmd else None
        yield json.dumps({'stream': 'Successfully built %s\n' % tag})

    def create_container(self, image, command=None, **_kw):
        cid = uuid.uuid4().hex
        self.containers[cid] = {'command': command or self.images.get(image)}
        return {'Id': cid}

    def start(self, container, binds=None):
        ct = self.containers[container]
        command = ct['command']
        argv = command if isinstance(command, list) else ['sh', '-c', command]
        mounts = []
        for host_dir, inside in (binds or {}).items():
            mounts += ['--bind', host_dir, inside]
        # green: a clone must not stop the API's other green threads
        from eventlet.green import subprocess
        ct['proc'] = subprocess.Popen(['bwrap', '--dev-bind', '/', '/'] + mounts
                                      + ['--die-with-parent'] + argv,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      text=True)

    def attach(self, container, stream=True, **_kw):
        proc = self.containers[container]['proc']
        for line in proc.stdout:
            yield line
        proc.wait()

    def wait(self, container):
        return self.containers[container]['proc'].wait()

    def remove_container(self, container, **_kw):
        self.containers.pop(container, None)

    def remove_image(self, image, **_kw):
        self.images.pop(image, None)


class FetchingWorker:
    """Solum's worker, up to the fetch of the source (see the module's notes 5-7)."""

    def __init__(self, journal_dir):
        self.dir = journal_dir
        self.lock = threading.Lock()

    def build_lp(self, ctxt, image_id, git_info, name, source_format, image_format,
                 artifact_type, lp_params=None):
        """Language packs are not built here (note 5)."""

    def launch_workflow(self, ctxt, build_id, git_info, ports, name, base_image_id,
                        source_format, image_format, assembly_id, workflow, test_cmd,
                        run_cmd, du_id=None):
        import eventlet
        from oslo_config import cfg
        from solum import objects
        from solum.uploaders import tenant_logger
        from solum.worker.app_handlers import default as docker_handler
        while os.path.exists(os.path.join(self.dir, 'hold')):
            eventlet.sleep(0.05)
        assem = objects.registry.Assembly.get_by_id(ctxt, assembly_id)
        logger = tenant_logger.TenantLogger(ctxt, assem, assem.uuid,
                                            cfg.CONF.worker.task_log_dir, 'unittest')
        with docker_handler.DockerHandler(ctxt, assem, 'custom',
                                          'docker_registry') as handler:
            # clones, then finds no language pack (docker_registry): returns False
            handler._prepare(git_info, None, None, logger)
            entry = {'assembly': assem.uuid, 'workflow': list(workflow),
                     'git_info': git_info, 'sha': handler.source_sha}
        # the handler removed its work dir; the parents it made are Solum's fixed ones
        for parent in ('/tmp/apps/%s' % ctxt.project_id, '/tmp/apps'):
            try:
                os.rmdir(parent)
            except OSError:
                break  # not empty: another fetch is using it
        with self.lock, open(os.path.join(self.dir, 'fetches.jsonl'), 'a') as f:
            f.write(json.dumps(entry) + '\n')


def _start_worker(journal_dir):
    import inspect
    inspect.getargspec = inspect.getfullargspec
    import docker
    from oslo_config import cfg
    from solum.cmd import worker as worker_cmd
    from solum.common.rpc import service as rpc_service
    cfg.CONF.register_opts(worker_cmd.cli_opts)
    cfg.CONF.set_override('run_container_cmd_as', os.getuid())
    docker.APIClient = HostDocker
    service = rpc_service.Service(cfg.CONF.worker.topic, cfg.CONF.worker.host,
                                  [FetchingWorker(journal_dir)])
    service._server.start()
    return service


CONFIG = """[DEFAULT]
enable_authentication = True
use_stderr = True
keystone_version = 2
transport_url = fake://
[database]
connection = sqlite://
[api]
host = 127.0.0.1
port = %d
[worker]
task_log_dir = %s
"""


def _configure(port, log_dir):
    import os
    import tempfile

    from oslo_config import cfg
    from solum.common import service
    fd, path = tempfile.mkstemp(prefix='solum-harness-', suffix='.conf')
    with os.fdopen(fd, 'w') as f:
        f.write(CONFIG % (port, log_dir))
    try:
        service.prepare_service([sys.argv[0], '--config-file', path])
    finally:
        os.unlink(path)
    return cfg.CONF


class _Facade:
    """One in-memory SQLite connection for every session (a per-thread pool
    would give each green thread its own empty database)."""

    def __init__(self):
        import sqlalchemy
        from sqlalchemy import orm
        self.engine = sqlalchemy.create_engine(
            'sqlite://', poolclass=sqlalchemy.pool.StaticPool,
            connect_args={'check_same_thread': False})
        self._maker = orm.sessionmaker

    def get_engine(self):
        return self.engine

    def get_session(self, autocommit=True, expire_on_commit=False):
        return self._maker(bind=self.engine, autocommit=autocommit,
                           expire_on_commit=expire_on_commit)()


def _database():
    from solum.objects import sqlalchemy as object_sqla
    from solum.objects.sqlalchemy import models
    facade = _Facade()
    object_sqla.get_facade = lambda: facade
    models.Base.metadata.create_all(facade.engine)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--worker', metavar='DIR',
                        help='fetch the source of each workflow (notes 5-7)')
    args = parser.parse_args(argv)
    log_dir = os.path.join(args.worker, 'logs') if args.worker else '/tmp'
    if args.worker:
        os.makedirs(log_dir, exist_ok=True)
    conf = _configure(args.port, log_dir)
    _patch_workflow_controllers()
    from solum.api import auth
    auth.install = lambda app, conf: app
    from solum import objects
    objects.load()
    _database()
    if args.worker:
        _start_worker(args.worker)
    import eventlet
    from eventlet import wsgi
    from solum.api import app as api_app
    app = api_app.setup_app()
    sock = eventlet.listen(('127.0.0.1', args.port))
    print('READY %d' % sock.getsockname()[1], flush=True)
    wsgi.server(sock, app, log_output=False)
    return conf


if __name__ == '__main__':
    main()
