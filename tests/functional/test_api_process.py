"""The real solum-git-api console script, served over HTTP, as an operator runs it."""
import http.server
import os
import socket
import threading

import pbr.version
import pytest
import requests

from tests import helpers


@pytest.fixture(scope='module')
def api_process(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('api')
    with helpers.database('sqlite', tmp) as url:
        api = helpers.ApiProcess(tmp, url)
        api.manage('db', 'upgrade')
        api.start()
        yield api
        api.stop()
        api.remove_local_stacks()  # a repo made here made a stack (and, as root, a user)


def test_infrastructure_document(api_process):
    r = requests.get(api_process.url + '/v1/infrastructure', timeout=10,
                     headers={'X-Project-Id': 'p', 'X-User-Id': 'u'})
    assert r.status_code == 200
    doc = r.json()
    assert doc['type'] == 'infrastructure'
    for key in ('stacks_uri', 'repos_uri', 'keys_uri'):
        assert doc[key].startswith(api_process.url + '/v1/infrastructure/')


def test_version_discovery_and_401(api_process):
    assert requests.get(api_process.url + '/', timeout=10).json()['versions'][0][
        'id'] == 'v1'
    assert requests.get(api_process.url + '/v1/infrastructure/repos',
                        timeout=10).status_code == 401


def test_create_and_list_repo_over_http(api_process):
    c = helpers.Client(api_process.url, 'proc-project', 'proc-user')
    r = c.post('/v1/infrastructure/repos', {'name': 'served'})
    assert r.status_code == 201, r.text
    assert [x['name'] for x in c.get('/v1/infrastructure/repos').json()] == ['served']


def test_sigterm_stops_the_process(tmp_path, sqlite_url):
    api = helpers.ApiProcess(tmp_path, sqlite_url)
    api.manage('db', 'upgrade')
    api.start()
    proc = api.proc
    api.stop()
    assert proc.returncode == 0


def test_openapi_document_is_served_without_identity(api_process):
    r = requests.get(api_process.url + '/v1/openapi.json', timeout=10)
    assert r.status_code == 200
    doc = r.json()
    assert doc['openapi'] == '3.1.0'
    assert doc['info']['version'] == pbr.version.VersionInfo('solum-git').release_string()
    assert doc['servers'] == [{'url': '/'}]
    assert '/v1/infrastructure/repos/{uuid}' in doc['paths']
    assert requests.post(api_process.url + '/v1/openapi.json', timeout=10,
                         json={}).status_code == 405


# -- the test harness: a test talks to its own API, never to one that took its port

@pytest.fixture
def squatter():
    """Another test's server, listening on a port and answering like an API."""
    class Answer(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header('Content-Length', '2')
            self.end_headers()
            self.wfile.write(b'{}')

        def log_message(self, *args):
            pass
    server = http.server.HTTPServer(('127.0.0.1', 0), Answer)
    threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.05},
                     daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _own_api_answers(api):
    assert os.getpid() != api.proc.pid and api.proc.pid in helpers.listening_pids(api.port)
    assert requests.get(api.url + '/', timeout=10).json()['versions'][0]['id'] == 'v1'


def test_an_api_whose_port_was_taken_starts_on_another(tmp_path, sqlite_url, squatter):
    api = helpers.ApiProcess(tmp_path, sqlite_url)
    api.manage('db', 'upgrade')
    api._use_port(squatter)  # as if another test had bound it after free_port()
    api.start()
    try:
        assert api.port != squatter
        assert 'port = %d' % api.port in api.config.read_text()
        _own_api_answers(api)
    finally:
        api.stop()


def test_a_restart_on_a_port_taken_meanwhile_fails_loudly(tmp_path, sqlite_url, squatter):
    api = helpers.ApiProcess(tmp_path, sqlite_url)
    api.manage('db', 'upgrade')
    api.start()
    _own_api_answers(api)
    api.stop()
    api._use_port(squatter)  # its git servers call back on the port it had
    with pytest.raises(helpers.PortTaken):
        api.start()
    assert api.proc is None and api.port == squatter


def test_a_closed_port_refuses_and_cannot_be_taken():
    with helpers.closed_port() as port:
        with pytest.raises(requests.ConnectionError):
            requests.get('http://127.0.0.1:%d/' % port, timeout=5)
        with socket.socket() as other:
            with pytest.raises(OSError):
                other.bind(('127.0.0.1', port))
