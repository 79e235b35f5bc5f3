"""A webhook name that resolves to a public address when it is checked and to
the service's own host when the request connects (DNS rebinding) reaches
nothing: the addresses are judged again at connect time."""
import http.server
import socket
import threading

import pytest
import requests

from solum_git.common import addresses
from solum_git.common import public_http
from solum_git.common import states
from solum_git.pipelines import base
from solum_git.pipelines import webhook

PUBLIC = '93.184.216.34'


@pytest.fixture
def receiver():
    """A real HTTP server on loopback that counts what reaches it."""
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get('Content-Length') or 0))
            hits.append(self.path)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], hits
    server.shutdown()
    server.server_close()


@pytest.fixture
def rebinding(monkeypatch):
    """``rebind.test`` answers a public address to the first lookup, then 127.0.0.1."""
    real = socket.getaddrinfo
    asked = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host != 'rebind.test':
            return real(host, port, *args, **kwargs)
        asked.append(host)
        address = PUBLIC if len(asked) == 1 else '127.0.0.1'
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, '', (address, int(port)))]

    monkeypatch.setattr(socket, 'getaddrinfo', getaddrinfo)
    return asked


def test_a_name_rebound_to_loopback_after_the_check_is_not_connected(receiver, rebinding):
    port, hits = receiver
    url = 'http://rebind.test:%d/hook' % port
    addresses.check_url(url, allow_private=False)  # passes: the first answer is public
    with public_http.session(False) as http:
        with pytest.raises(requests.ConnectionError) as caught:
            http.post(url, data=b'{}', timeout=5)
    assert 'at connect time' in str(caught.value)
    assert hits == []


def test_the_webhook_pipeline_delivers_nothing_to_a_rebound_name(
        tmp_path, receiver, rebinding):
    from tests import helpers
    port, hits = receiver
    conf = helpers.make_conf(tmp_path, 'sqlite://')
    log = base.RunLog(str(tmp_path / 'log'), 4096)
    repo = {'uuid': 'r-1', 'project_id': 'p', 'name': 'app', 'default_branch': 'main',
            'git_url': 'ssh://git@example/app.git'}
    push = {'uuid': 'p-1', 'push_id': 'id', 'pusher': 'alice'}
    trigger = {'uuid': 't-1', 'config': {'url': 'http://rebind.test:%d/h' % port,
                                         'secret': 's'}}
    spec = base.RunSpec('run-1', 'webhook', 'refs/heads/main', '0' * 40, '1' * 40, 1,
                        repo, push, trigger, None,
                        str(tmp_path), log, threading.Event())
    result = webhook.WebhookPipeline(conf).execute(spec)
    assert result.status == states.RunStatus.RETRY
    assert 'at connect time' in result.delivery['error']
    assert hits == []


def test_a_public_answer_is_connected_to_that_address(receiver, monkeypatch):
    """The connection goes to the judged address (here loopback, judged public by
    a patched rule), with the URL's name kept for the Host header."""
    port, hits = receiver
    monkeypatch.setattr(addresses, 'kind', lambda address: None)
    real = socket.getaddrinfo
    monkeypatch.setattr(socket, 'getaddrinfo', lambda host, *a, **k: real(
        '127.0.0.1' if host == 'judged.test' else host, *a, **k))
    with public_http.session(False) as http:
        assert http.post('http://judged.test:%d/x' % port, data=b'1',
                         timeout=5).status_code == 204
    assert hits == ['/x']


def test_the_operator_may_allow_private_targets(receiver):
    port, hits = receiver
    with public_http.session(True) as http:
        assert http.post('http://127.0.0.1:%d/y' % port, timeout=5).status_code == 204
    with public_http.session(False) as http:
        with pytest.raises(requests.ConnectionError):
            http.post('http://127.0.0.1:%d/z' % port, timeout=5)
    assert hits == ['/y']
