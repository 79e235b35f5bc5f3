"""A real Keystone (24.0.0, OpenStack 2023.2) on 127.0.0.1, for tests.

SQLite, fernet tokens: a copy of the schema and key repositories that
``keystone-manage db_sync``, ``fernet_setup`` and ``credential_setup`` made once
for the venv (tools/keystone-testenv.sh), then ``keystone-manage bootstrap``
(admin user and project, RegionOne, an identity endpoint on the live port),
served by gunicorn from ``.venv-keystone``. Users, projects, role
assignments and trusts are made through Keystone's own v3 API.
"""
import contextlib
import dataclasses
import pathlib
import secrets
import shutil
import sqlite3
from typing import Iterable, Optional

from keystoneauth1.identity import v3
from keystoneauth1 import session as ks_session

from tests import helpers
from tests.peers import process

REGION = 'RegionOne'
DOMAIN = 'default'
IDENTITY = {'service_type': 'identity', 'interface': 'public'}


@dataclasses.dataclass(frozen=True)
class User:
    """A Keystone user and the project its password logs it into."""
    id: str
    name: str
    password: str
    project_id: str
    project_name: str
    domain_id: str = DOMAIN


class Keystone:
    """One Keystone server: ``start()``, then ``url`` (its v3 auth URL) and ``admin``."""

    def __init__(self, workdir: pathlib.Path):
        self.workdir = pathlib.Path(workdir)
        self.port = helpers.free_port()
        self.base_url = 'http://127.0.0.1:%d' % self.port
        self.url = self.base_url + '/v3'
        self.log_path = self.workdir / 'keystone.log'
        self.config = self.workdir / 'keystone.conf'
        self.database = self.workdir / 'keystone.sqlite'
        self.admin: Optional[User] = None
        self.service_user: Optional[User] = None
        self._server: Optional[process.Process] = None
        self._admin_session = None
        self._roles: dict = {}

    # -- lifecycle

    def start(self) -> 'Keystone':
        bin_dir = process.testenv('keystone')
        self._write_config()
        env = process.environ(OS_KEYSTONE_CONFIG_FILES=str(self.config))
        manage = [bin_dir / 'keystone-manage', '--config-file', self.config]
        password = secrets.token_urlsafe(16)
        # the schema and key repositories keystone-manage db_sync, fernet_setup and
        # credential_setup made for this venv (tools/keystone-testenv.sh)
        template = bin_dir.parent / 'keystone-template'
        shutil.copyfile(template / 'keystone.sqlite', self.database)
        for keys in ('fernet-keys', 'credential-keys'):
            shutil.copytree(template / keys, self.workdir / keys)
        # write-ahead logging, kept in the file: keystone reads through a second connection
        # inside some write transactions, which rollback-journal SQLite answers "locked"
        with contextlib.closing(sqlite3.connect(self.database)) as db:
            db.execute('PRAGMA journal_mode=WAL')
        # gunicorn reads ./gunicorn.conf.py: keystone parses sys.argv, so it must hold no options;
        # one single-threaded worker, as SQLite takes one writer and oslo.db's SQLite connections
        # one thread (two workers answered "database is locked", threads failed on sqlite3)
        (self.workdir / 'gunicorn.conf.py').write_text(
            'bind = %r\nworkers = 1\ngraceful_timeout = 5\ntimeout = 120\n'
            'wsgi_app = "keystone.server.wsgi:initialize_public_application()"\n'
            % ('127.0.0.1:%d' % self.port))
        # the worker boots while bootstrap fills the database
        self._server = process.Process('keystone', [bin_dir / 'gunicorn'], self.log_path,
                                       env=env, cwd=self.workdir).start()
        try:
            process.run({'bootstrap': manage + [
                'bootstrap', '--bootstrap-password=' + password,
                '--bootstrap-username', 'admin', '--bootstrap-project-name', 'admin',
                '--bootstrap-role-name', 'admin', '--bootstrap-service-name', 'keystone',
                '--bootstrap-region-id', REGION, '--bootstrap-admin-url', self.url,
                '--bootstrap-internal-url', self.url, '--bootstrap-public-url', self.url]},
                self.workdir, env=env)
            self._server.wait_http(self.url, timeout=90)
            self.admin = self._bootstrap_admin(password)
            self.service_user = self.make_user('solum-git', project='service',
                                               roles=('service',))
        except Exception:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def _write_config(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        keys = self.workdir / 'fernet-keys'
        helpers.write_config(self.config, {
            'DEFAULT': {'use_stderr': 'true'},
            'database': {'connection': 'sqlite:///%s' % self.database},
            'token': {'provider': 'fernet'},
            'fernet_tokens': {'key_repository': keys},
            'fernet_receipts': {'key_repository': keys},
            'credential': {'key_repository': self.workdir / 'credential-keys'},
            # bcrypt's minimum cost (its default, 12, is 256 times the work per password)
            'identity': {'password_hash_rounds': '4'},
            # one worker, so an in-process cache stays coherent (without: ~0.7 s per validation)
            'cache': {'enabled': 'true', 'backend': 'oslo_cache.dict'},
        })

    def _bootstrap_admin(self, password: str) -> User:
        self.admin = User(id='', name='admin', password=password, project_id='',
                          project_name='admin')
        sess = self.session(self.admin)
        self._admin_session = sess
        return dataclasses.replace(self.admin, id=sess.get_user_id(),
                                   project_id=sess.get_project_id())

    # -- sessions and tokens

    def auth(self, user: User, trust_id: Optional[str] = None) -> v3.Password:
        """keystoneauth1's v3 password plugin for ``user`` (trust-scoped with ``trust_id``)."""
        scope = ({'trust_id': trust_id} if trust_id else
                 {'project_id': user.project_id} if user.project_id else
                 {'project_name': user.project_name, 'project_domain_id': user.domain_id})
        return v3.Password(auth_url=self.url, user_domain_id=user.domain_id,
                           password=user.password,
                           **({'user_id': user.id} if user.id else {'username': user.name}),
                           **scope)

    def session(self, user: User, trust_id: Optional[str] = None) -> ks_session.Session:
        return ks_session.Session(auth=self.auth(user, trust_id), timeout=30)

    def token(self, user: User) -> str:
        return self.session(user).get_token()

    def admin_session(self) -> ks_session.Session:
        return self._admin_session

    # -- the v3 API, as admin

    def call(self, method: str, path: str, json: Optional[dict] = None,
             sess: Optional[ks_session.Session] = None, **kw):
        """A v3 API request (``path`` below /v3) with the admin's token unless ``sess``."""
        return (sess or self._admin_session).request(
            path, method, json=json, endpoint_filter=IDENTITY, **kw)

    def role_id(self, name: str) -> str:
        """The id of role ``name``, made if it does not exist yet."""
        if name not in self._roles:
            found = self.call('GET', '/roles?name=%s' % name).json()['roles']
            self._roles[name] = (found[0]['id'] if found else self.call(
                'POST', '/roles', {'role': {'name': name}}).json()['role']['id'])
        return self._roles[name]

    def make_project(self, name: str) -> str:
        """The id of project ``name`` in the default domain, made if needed."""
        found = self.call('GET', '/projects?name=%s' % name).json()['projects']
        if found:
            return found[0]['id']
        return self.call('POST', '/projects', {'project': {
            'name': name, 'domain_id': DOMAIN}}).json()['project']['id']

    def grant(self, user_id: str, project_id: str, roles: Iterable[str]) -> None:
        for role in roles:
            self.call('PUT', '/projects/%s/users/%s/roles/%s' % (
                project_id, user_id, self.role_id(role)))

    def make_user(self, name: Optional[str] = None, project: Optional[str] = None,
                  roles: Iterable[str] = ('member',), password: Optional[str] = None) -> User:
        """A new user with ``roles`` on ``project`` (a name; the project is made if needed).

        Names are unique in one Keystone, which lives as long as the test session: by
        default both are new (``user-<hex>``, ``project-<hex>``).
        """
        name = name or 'user-%s' % secrets.token_hex(4)
        project = project or 'project-%s' % secrets.token_hex(4)
        password = password or secrets.token_urlsafe(16)
        project_id = self.make_project(project)
        user_id = self.call('POST', '/users', {'user': {
            'name': name, 'password': password, 'domain_id': DOMAIN,
            'default_project_id': project_id}}).json()['user']['id']
        self.grant(user_id, project_id, roles)
        return User(id=user_id, name=name, password=password, project_id=project_id,
                    project_name=project)

    def register_service(self, service_type: str, name: str, url: str) -> str:
        """A catalog entry (public, internal and admin endpoints at ``url``); its id."""
        service_id = self.call('POST', '/services', {'service': {
            'type': service_type, 'name': name}}).json()['service']['id']
        for interface in ('public', 'internal', 'admin'):
            self.call('POST', '/endpoints', {'endpoint': {
                'service_id': service_id, 'interface': interface, 'url': url,
                'region_id': REGION}})
        return service_id

    def delete_service(self, service_id: str) -> None:
        self.call('DELETE', '/services/%s' % service_id)

    # -- trusts, as the trustor

    def create_trust(self, trustor: User, trustee: User, roles: Iterable[str] = ('member',),
                     impersonation: bool = True) -> str:
        """A trust from ``trustor`` (on its project) to ``trustee``; the trust's id."""
        body = {'trust': {
            'trustor_user_id': trustor.id, 'trustee_user_id': trustee.id,
            'project_id': trustor.project_id, 'impersonation': impersonation,
            'roles': [{'name': r} for r in roles]}}
        return self.call('POST', '/OS-TRUST/trusts', body,
                         sess=self.session(trustor)).json()['trust']['id']

    def get_trust(self, user: User, trust_id: str) -> Optional[dict]:
        """The trust as its trustor or trustee ``user`` sees it; None when Keystone says 404."""
        r = self.call('GET', '/OS-TRUST/trusts/%s' % trust_id, sess=self.session(user),
                      raise_exc=False)
        if r.status_code == 404:
            return None
        r.raise_for_status()
        return r.json()['trust']

    def delete_trust(self, trustor: User, trust_id: str) -> None:
        self.call('DELETE', '/OS-TRUST/trusts/%s' % trust_id, sess=self.session(trustor))
