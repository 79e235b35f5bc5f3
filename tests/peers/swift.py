"""A real Swift (2.32.0, OpenStack 2023.2) on 127.0.0.1, for tests.

Swift's own account, container and object servers and proxy from
``.venv-swift`` (tools/swift-testenv.sh), each its own process on a free
port, rings of one device and one replica (Swift's RingBuilder, tools/swift_rings.py),
objects on a filesystem with room for its xattrs (tmpfs /dev/shm here), and
memcached (Debian's) for tempauth's tokens. A second proxy in front of the same
servers can authenticate against a real Keystone (keystonemiddleware's
``authtoken`` + Swift's ``keystoneauth``).
"""
import dataclasses
import getpass
import os
import pathlib
import secrets
import shutil
import tempfile
from typing import Dict, Optional, Tuple

from swiftclient import client as swift_client

from tests import helpers
from tests.peers import keystone as ks_peer
from tests.peers import process

LAUNCHER = process.TOP / 'tools' / 'swift_server.py'
RINGS = process.TOP / 'tools' / 'swift_rings.py'
DEVICE = 'sdb1'
# 4 KiB of user metadata (Swift's max_meta_overall_size) and Swift's own, pickled
XATTR_ROOM = 8 * 1024
STORAGE = ('account', 'container', 'object')
# the proxy's middleware in Swift's documented order; %s: tempauth, or authtoken + keystoneauth
PIPELINE = ('catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk '
            '%s copy slo dlo versioned_writes proxy-logging proxy-server')
EGGS = {'cache': 'memcache'}


@dataclasses.dataclass(frozen=True)
class TempAuthUser:
    """A tempauth user: v1 auth URL, ``account:user`` name and key."""
    auth_url: str
    user: str
    key: str
    account: str

    def connection(self, **kw) -> swift_client.Connection:
        return swift_client.Connection(authurl=self.auth_url, user=self.user, key=self.key,
                                       auth_version='1', retries=0, **kw)

    def preauth(self) -> Tuple[str, str]:
        """(storage URL, token), as ``GET /auth/v1.0`` answers them."""
        return swift_client.get_auth(self.auth_url, self.user, self.key, auth_version='1')


class Proxy:
    """One ``swift-proxy-server`` in front of the cluster's storage servers."""

    def __init__(self, swift: 'Swift', name: str, auth_filters: str, filters: Dict[str, dict]):
        self.port = helpers.free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        sections = {
            'DEFAULT': swift._common(self.port),
            'pipeline:main': {'pipeline': PIPELINE % auth_filters},
            'app:proxy-server': {'use': 'egg:swift#proxy', 'account_autocreate': 'true',
                                 'allow_account_management': 'true'},
        }
        for middleware in PIPELINE.split():
            if middleware not in ('proxy-server', '%s'):
                entry = EGGS.get(middleware, middleware.replace('-', '_'))
                sections['filter:%s' % middleware] = {'use': 'egg:swift#%s' % entry}
        sections['filter:cache']['memcache_servers'] = swift.memcached_addr
        sections.update(filters)
        self.config = helpers.write_config(swift.workdir / ('%s.conf' % name), sections)
        self.server = process.Process(
            name, swift._launch('proxy', self.config), swift.workdir / ('%s.log' % name))

    def start(self) -> 'Proxy':
        self.server.start()
        try:
            self.server.wait_http(self.url + '/healthcheck')
        except Exception:
            self.server.stop()
            raise
        return self

    def stop(self) -> None:
        self.server.stop()


class KeystoneSwift:
    """A proxy behind Keystone, registered as Keystone's ``object-store`` service."""

    def __init__(self, swift: 'Swift', keystone: ks_peer.Keystone):
        self.keystone = keystone
        service_user = keystone.make_user('swift-%s' % secrets.token_hex(4), project='service',
                                          roles=('service',))
        self.proxy = Proxy(swift, 'proxy-keystone', 'authtoken keystoneauth', {
            'filter:authtoken': {
                'paste.filter_factory': 'keystonemiddleware.auth_token:filter_factory',
                'www_authenticate_uri': keystone.url, 'auth_url': keystone.url,
                'auth_type': 'password', 'user_domain_id': ks_peer.DOMAIN,
                'project_domain_id': ks_peer.DOMAIN, 'username': service_user.name,
                'password': service_user.password, 'project_name': 'service',
                'delay_auth_decision': 'true', 'service_token_roles_required': 'true'},
            'filter:keystoneauth': {'use': 'egg:swift#keystoneauth',
                                    'operator_roles': 'admin, member'},
        })
        self.url = self.proxy.url
        self.service_id: Optional[str] = None

    def start(self) -> 'KeystoneSwift':
        self.proxy.start()
        try:
            self.service_id = self.keystone.register_service(
                'object-store', 'swift', self.url + '/v1/AUTH_$(project_id)s')
        except Exception:
            self.proxy.stop()
            raise
        return self

    def stop(self) -> None:
        if self.service_id:
            self.keystone.delete_service(self.service_id)
            self.service_id = None
        self.proxy.stop()

    def connection(self, user: ks_peer.User, **kw) -> swift_client.Connection:
        """python-swiftclient through a keystoneauth1 session of ``user`` (the catalog's URL)."""
        return swift_client.Connection(session=self.keystone.session(user), retries=0, **kw)


class Swift:
    """A one-device cluster: ``start()``, then ``admin`` (tempauth) and ``proxy``."""

    def __init__(self, workdir: pathlib.Path):
        self.workdir = pathlib.Path(workdir)
        self.devices: Optional[pathlib.Path] = None
        self.ports = {name: helpers.free_port() for name in STORAGE + ('memcached',)}
        self.memcached_addr = '127.0.0.1:%d' % self.ports['memcached']
        self.user = getpass.getuser()
        self._servers = []
        self._bin: Optional[pathlib.Path] = None
        keys = {name: secrets.token_urlsafe(12) for name in ('tester', 'tester2', 'reader')}
        self.proxy: Optional[Proxy] = None
        self._tempauth = {'user_test_tester': keys['tester'] + ' .admin',
                          'user_test2_tester2': keys['tester2'] + ' .admin',
                          'user_test_reader': keys['reader']}
        self._keys = keys
        self.admin: Optional[TempAuthUser] = None
        self.other_admin: Optional[TempAuthUser] = None
        self.reader: Optional[TempAuthUser] = None

    # -- lifecycle

    def start(self) -> 'Swift':
        self._bin = process.testenv('swift')
        self.devices = _devices_dir(self.workdir)
        self.devices.joinpath(DEVICE).mkdir()
        self._write_swift_conf()
        self._build_rings()
        try:
            self._start_storage()
            # the proxy boots beside the servers: it needs them only for requests
            self.proxy = Proxy(self, 'proxy-tempauth', 'tempauth', {
                'filter:tempauth': dict(self._tempauth, use='egg:swift#tempauth')}).start()
            for server, name in zip(self._servers[1:], STORAGE):
                server.wait_http('http://127.0.0.1:%d/' % self.ports[name])
        except Exception:
            self.stop()
            raise
        auth_url = self.proxy.url + '/auth/v1.0'
        self.admin = TempAuthUser(auth_url, 'test:tester', self._keys['tester'], 'AUTH_test')
        self.other_admin = TempAuthUser(auth_url, 'test2:tester2', self._keys['tester2'],
                                        'AUTH_test2')
        self.reader = TempAuthUser(auth_url, 'test:reader', self._keys['reader'], 'AUTH_test')
        return self

    def stop(self) -> None:
        if self.proxy is not None:
            self.proxy.stop()
        for server in reversed(self._servers):
            server.stop()
        self._servers = []
        if self.devices is not None and not self.devices.is_relative_to(self.workdir):
            shutil.rmtree(self.devices, ignore_errors=True)

    def behind_keystone(self, keystone: ks_peer.Keystone) -> KeystoneSwift:
        """Another proxy, over the same servers, that takes Keystone tokens (started)."""
        return KeystoneSwift(self, keystone).start()

    # -- set-up

    def _common(self, port: int) -> dict:
        return {'bind_ip': '127.0.0.1', 'bind_port': port, 'workers': '0',
                'user': self.user, 'swift_dir': self.workdir, 'devices': self.devices,
                'mount_check': 'false', 'log_level': 'INFO'}

    def _launch(self, server: str, config: pathlib.Path) -> list:
        return [self._bin / 'python', LAUNCHER, self.workdir,
                self._bin / ('swift-%s-server' % server), config, '-v']

    def _write_swift_conf(self) -> None:
        helpers.write_config(self.workdir / 'swift.conf', {
            'swift-hash': {'swift_hash_path_suffix': secrets.token_hex(8),
                           'swift_hash_path_prefix': secrets.token_hex(8)},
            'storage-policy:0': {'name': 'gold', 'default': 'yes'},
        })

    def _build_rings(self) -> None:
        process.run({'rings': [self._bin / 'python', RINGS, self.workdir, DEVICE] + [
            '%s=%d' % (name, self.ports[name]) for name in STORAGE]}, self.workdir)

    def _start_storage(self) -> None:
        memcached = ['memcached', '-l', '127.0.0.1', '-p', str(self.ports['memcached']),
                     '-U', '0', '-m', '16', '-t', '1']
        if os.geteuid() == 0:
            memcached += ['-u', self.user]
        if shutil.which('memcached') is None:
            raise process.PeerError('memcached is missing: tools/setup-env.sh installs it')
        self._servers.append(process.Process(
            'memcached', memcached, self.workdir / 'memcached.log').start())
        for name in STORAGE:
            config = helpers.write_config(self.workdir / ('%s-server.conf' % name), {
                'DEFAULT': self._common(self.ports[name]),
                'pipeline:main': {'pipeline': '%s-server' % name},
                'app:%s-server' % name: {'use': 'egg:swift#%s' % name},
            })
            self._servers.append(process.Process(
                '%s-server' % name, self._launch(name, config),
                self.workdir / ('%s-server.log' % name)).start())


def _xattr_room(directory: pathlib.Path, want: int) -> int:
    """How many bytes of user xattrs, up to ``want``, one file in ``directory`` takes."""
    fd, probe = tempfile.mkstemp(dir=directory)
    os.close(fd)
    room = 0
    try:
        while room < want:
            # Swift's own way: its metadata pickle cut into user.swift.metadataN of 254 bytes
            os.setxattr(probe, 'user.swift.metadata%d' % (room // 254), b'x' * 254)
            room += 254
    except OSError:
        pass
    finally:
        os.unlink(probe)
    return room


def _devices_dir(workdir: pathlib.Path) -> pathlib.Path:
    """Where the object server writes: a filesystem with room for Swift's xattrs.

    Swift keeps an object's metadata (up to 4 KiB of the user's and its own) in
    user xattrs; ext4 holds about 3.8 KiB of xattrs per inode (there a PUT with
    ~3 KiB of metadata answers 503), tmpfs far more. So /dev/shm when it has room.
    """
    shm = pathlib.Path('/dev/shm')
    if shm.is_dir() and os.access(shm, os.W_OK) and _xattr_room(shm, XATTR_ROOM) >= XATTR_ROOM:
        return pathlib.Path(tempfile.mkdtemp(dir=shm, prefix='swift-test-devices-'))
    devices = workdir / 'srv'
    devices.mkdir()
    if _xattr_room(devices, 254) == 0:
        raise process.PeerError('Swift needs user xattrs: neither /dev/shm nor %s has them'
                                % devices)
    return devices
