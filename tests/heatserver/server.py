"""A fake cloud at its HTTP APIs: Keystone v3 tokens, Heat v1 stacks, Nova console.

python-heatclient and python-novaclient talk to it through a keystoneauth1
session, exactly as to a cloud: password auth, a token, a catalog, then the
documented request and response shapes. Stacks go through Heat's states
(CREATE_IN_PROGRESS -> CREATE_COMPLETE or CREATE_FAILED, UPDATE_*, DELETE_*)
and "boot" what the template describes (see machines.py).
"""
import datetime
import http.server
import json
import os
import re
import threading
import time
import urllib.parse
import uuid

import yaml

from tests.heatserver import hot
from tests.heatserver import machines

SERVER_TYPES = ('OS::Nova::Server', 'OS::Zun::Container')


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


class FakeStack:
    def __init__(self, cloud, name, body):
        self.cloud = cloud
        self.id = str(uuid.uuid4())
        self.name = name
        self.status = 'CREATE_IN_PROGRESS'
        self.reason = 'Stack CREATE started'
        self.created = now()
        self.updated = None
        self.machine = None
        self.view = None
        self.body = body
        self.params = body.get('parameters') or {}

    def render(self, body):
        template = body['template']
        if isinstance(template, str):
            template = yaml.safe_load(template)
        return hot.Stack(template, body.get('files'), body.get('parameters'),
                         self.cloud.attribute, ids=self.id[:8])

    def show(self):
        outputs = []
        if self.view is not None and self.status.endswith('COMPLETE'):
            outputs = [{'output_key': k, 'output_value': v, 'description': ''}
                       for k, v in self.view.outputs().items()]
        hidden = {k for k, v in (self.view.t.get('parameters') or {}).items()
                  if v.get('hidden')} if self.view else set()
        link = '%s/stacks/%s/%s' % (self.cloud.heat_url, self.name, self.id)
        return {'id': self.id, 'stack_name': self.name, 'stack_status': self.status,
                'stack_status_reason': self.reason, 'creation_time': self.created,
                'updated_time': self.updated, 'outputs': outputs,
                'parameters': {k: '******' if k in hidden else v
                               for k, v in self.params.items()},
                'links': [{'href': link, 'rel': 'self'}], 'tags': None,
                'disable_rollback': True, 'timeout_mins': self.body.get('timeout_mins')}


class FakeCloud:
    """The state behind the APIs; tests may set ``fail_next`` or look at ``stacks``."""

    def __init__(self, workdir, project_id='service-project', build_delay=0.3,
                 container_podman=machines.PODMAN, container_env=None):
        self.workdir = workdir
        self.project_id = project_id
        self.token = uuid.uuid4().hex
        self.build_delay = build_delay
        self.container_podman = container_podman
        self.container_env = container_env or {}
        self.stacks = {}
        self.fail_next = None
        self.requests = []
        self.lock = threading.Lock()
        self.url = None

    @property
    def heat_url(self):
        return '%s/heat/v1/%s' % (self.url, self.project_id)

    def attribute(self, resource, type_, path):
        """Addresses on the fake cloud are the host's loopback."""
        values = {
            ('OS::Neutron::Port', 'fixed_ips'): [{'ip_address': '127.0.0.1',
                                                 'subnet_id': 'fake-subnet'}],
            ('OS::Neutron::FloatingIP', 'floating_ip_address'): '127.0.0.1',
            ('OS::Nova::Server', 'first_address'): '127.0.0.1',
        }
        value = values[(type_, path[0])]
        for step in path[1:]:
            value = value[step]
        return value

    # lifecycle, run in a thread per operation like Heat's engine
    def _build(self, stack, body, action):
        time.sleep(self.build_delay)
        with self.lock:
            failure, self.fail_next = self.fail_next, None
        if failure:
            stack.status, stack.reason = '%s_FAILED' % action, failure
            return
        try:
            stack.view = stack.render(body)
            stack.machine = self._machine(stack)
            stack.machine.boot()
        except Exception as exc:
            stack.status = '%s_FAILED' % action
            stack.reason = 'Resource %s failed: %s: %s' % (action, type(exc).__name__, exc)
            return
        stack.status, stack.reason = '%s_COMPLETE' % action, 'Stack %s completed' % action

    def _machine(self, stack):
        view = stack.view
        (server,) = [r for r in view.resources() if view.t['resources'][r]['type']
                     in SERVER_TYPES]
        props = view.properties(server)
        if view.t['resources'][server]['type'] == 'OS::Nova::Server':
            return machines.NamespaceVm(os.path.join(self.workdir, 'vm-%s' % stack.id),
                                        props['user_data'])
        env = dict(props['environment'])
        env.update(self.container_env)
        return machines.PodmanContainer('sgtest-%s' % stack.id[:12], props['image'],
                                        {k: str(v) for k, v in env.items()},
                                        self.container_podman)

    def create(self, body):
        name = body['stack_name']
        with self.lock:
            if name in self.stacks:
                return None
            stack = self.stacks[name] = FakeStack(self, name, body)
        threading.Thread(target=self._build, args=(stack, body, 'CREATE'), daemon=True).start()
        return stack

    def update(self, stack, body):
        if stack.machine is not None:
            stack.machine.power_off()
            stack.machine = None
        stack.body = body
        stack.params = body.get('parameters') or {}
        stack.status, stack.reason = 'UPDATE_IN_PROGRESS', 'Stack UPDATE started'
        stack.updated = now()
        threading.Thread(target=self._build, args=(stack, body, 'UPDATE'), daemon=True).start()

    def delete(self, stack):
        stack.status, stack.reason = 'DELETE_IN_PROGRESS', 'Stack DELETE started'

        def run():
            time.sleep(self.build_delay)
            if stack.machine is not None:
                stack.machine.power_off()
            with self.lock:
                self.stacks.pop(stack.name, None)
        threading.Thread(target=run, daemon=True).start()

    def find(self, name_or_id):
        with self.lock:
            for stack in self.stacks.values():
                if name_or_id in (stack.name, stack.id):
                    return stack
        return None

    def console(self, server_id, lines):
        for stack in list(self.stacks.values()):
            if stack.view is not None and stack.machine is not None and \
                    server_id in {stack.view.physical_id(r) for r in stack.view.resources()}:
                return stack.machine.console(lines)
        return None

    def power_off_all(self):
        for stack in list(self.stacks.values()):
            if stack.machine is not None:
                stack.machine.power_off()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    cloud = None

    def log_message(self, fmt, *args):
        pass

    def _send(self, code, body=None, headers=None):
        data = b'' if body is None else json.dumps(body).encode()
        self.send_response(code)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if body is not None:
            self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, code, message, kind):
        titles = {400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found', 409: 'Conflict'}
        self._send(code, {'code': code, 'title': titles.get(code, 'Error'),
                          'explanation': message,
                          'error': {'message': message, 'type': kind, 'traceback': None}})

    def _body(self):
        length = int(self.headers.get('Content-Length') or 0)
        return json.loads(self.rfile.read(length) or b'{}')

    def _route(self, method):
        path = urllib.parse.urlparse(self.path).path.rstrip('/')
        self.cloud.requests.append((method, path))
        if path == '/identity/v3' and method == 'GET':
            return self._version()
        if path == '/identity/v3/auth/tokens' and method == 'POST':
            return self._token()
        if self.headers.get('X-Auth-Token') != self.cloud.token:
            return self._error(401, 'The request you have made requires authentication.',
                               'Unauthorized')
        m = re.fullmatch(r'/heat/v1/([^/]+)/stacks(?:/([^/]+))?(?:/([^/]+))?', path)
        if m:
            return self._stacks(method, m.group(2), m.group(3))
        m = re.fullmatch(r'/compute/v2.1/servers/([^/]+)/action', path)
        if m and method == 'POST':
            return self._server_action(m.group(1))
        self._error(404, 'no route %s %s' % (method, path), 'NotFound')

    def _version(self):
        url = self.cloud.url + '/identity/v3/'
        media = {'base': 'application/json',
                 'type': 'application/vnd.openstack.identity-v3+json'}
        self._send(200, {'version': {'id': 'v3.14', 'status': 'stable',
                                     'updated': '2020-04-07T00:00:00Z',
                                     'links': [{'rel': 'self', 'href': url}],
                                     'media-types': [media]}})

    def _token(self):
        auth = self._body().get('auth', {})
        user = auth.get('identity', {}).get('password', {}).get('user', {})
        if user.get('password') != 'secret':
            return self._error(401, 'The request you have made requires authentication.',
                               'Unauthorized')
        cloud = self.cloud
        endpoint = lambda kind, url: {  # noqa: E731
            'type': kind, 'name': kind, 'id': kind,
            'endpoints': [{'id': kind + '-public', 'interface': 'public', 'region': 'RegionOne',
                           'region_id': 'RegionOne', 'url': url}]}
        token = {'methods': ['password'], 'expires_at': '2099-01-01T00:00:00.000000Z',
                 'issued_at': now(), 'audit_ids': ['x'],
                 'user': {'id': 'solum-git-user', 'name': user.get('name'),
                          'domain': {'id': 'default', 'name': 'Default'}},
                 'project': {'id': cloud.project_id, 'name': 'service',
                             'domain': {'id': 'default', 'name': 'Default'}},
                 'roles': [{'id': 'member', 'name': 'member'}],
                 'catalog': [endpoint('orchestration', cloud.heat_url),
                             endpoint('compute', cloud.url + '/compute/v2.1')]}
        self._send(201, {'token': token}, {'X-Subject-Token': cloud.token})

    def _stacks(self, method, name, stack_id):
        cloud = self.cloud
        if name is None and method == 'POST':
            stack = cloud.create(self._body())
            if stack is None:
                return self._error(409, 'The Stack already exists.', 'StackExists')
            return self._send(201, {'stack': {'id': stack.id, 'links': [
                {'href': '%s/stacks/%s/%s' % (cloud.heat_url, stack.name, stack.id),
                 'rel': 'self'}]}})
        stack = cloud.find(name) if name else None
        if stack is None or (stack_id and stack.id != stack_id):
            return self._error(404, 'The Stack (%s) could not be found.' % name,
                               'EntityNotFound')
        if method == 'GET':
            return self._send(200, {'stack': stack.show()})
        if method == 'PUT':
            if stack.status.endswith('IN_PROGRESS'):
                return self._error(409, 'Stack %s is in progress' % name, 'ActionInProgress')
            cloud.update(stack, self._body())
            return self._send(202)
        if method == 'DELETE':
            cloud.delete(stack)
            return self._send(204)
        self._error(405, 'method not allowed', 'MethodNotAllowed')

    def _server_action(self, server_id):
        body = self._body()
        if 'os-getConsoleOutput' not in body:
            return self._error(400, 'unsupported action', 'BadRequest')
        lines = body['os-getConsoleOutput'].get('length')
        output = self.cloud.console(server_id, int(lines) if lines else None)
        if output is None:
            return self._error(404, 'Instance %s could not be found.' % server_id,
                               'InstanceNotFound')
        self._send(200, {'output': output})

    def do_GET(self):
        self._route('GET')

    def do_POST(self):
        self._route('POST')

    def do_PUT(self):
        self._route('PUT')

    def do_DELETE(self):
        self._route('DELETE')


class HeatServer:
    """The fake cloud on a free loopback port, served from a thread."""

    def __init__(self, workdir, **kwargs):
        self.cloud = FakeCloud(str(workdir), **kwargs)
        handler = type('BoundHandler', (Handler,), {'cloud': self.cloud})
        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
        self.httpd.daemon_threads = True
        self.url = self.cloud.url = 'http://127.0.0.1:%d' % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={'poll_interval': 0.05}, daemon=True)

    def conf_overrides(self):
        """[heat] settings that point solum-git at this cloud."""
        return {'auth_type': 'password', 'auth_url': self.url + '/identity/v3',
                'username': 'solum-git', 'password': 'secret', 'project_name': 'service',
                'user_domain_name': 'Default', 'project_domain_name': 'Default',
                'region_name': 'RegionOne', 'network': 'private', 'image': 'solum-git-gitolite',
                'container_image': 'localhost/solum-git:latest', 'image_driver': 'docker'}

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.cloud.power_off_all()
