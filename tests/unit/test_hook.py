"""solum-git-hook on its own: signing, HTTP, spool, never failing a push.

The API side is a small real HTTP server here; the hook talks to it over TCP.
"""
import ast
import hashlib
import hmac
import http.server
import io
import json
import os
import pathlib
import subprocess
import sys
import threading

import pytest

from solum_git.hook import main as hook
from solum_git.services import signing

HOOK = pathlib.Path(hook.__file__)
SHA_A, SHA_B = 'a' * 40, 'b' * 40


class Receiver:
    """Records what it gets; answers what the test sets (status, body, chunked)."""

    def __init__(self):
        self.events = []
        self.headers = []
        self.status = 201
        self.chunked = False
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def do_POST(self):
                body = self.rfile.read(int(self.headers['Content-Length']))
                outer.headers.append(dict(self.headers))
                outer.events.append(json.loads(body))
                answer = json.dumps({'push': {'uri': 'http://api/p/1'}, 'runs': [
                    {'type': 'local', 'ref': 'refs/heads/main', 'status': 'QUEUED',
                     'uri': 'http://api/r/1'}]} if outer.status < 300
                    else {'faultstring': 'nope'}).encode()
                self.send_response(outer.status)
                self.send_header('Content-Type', 'application/json')
                if outer.chunked:
                    self.send_header('Transfer-Encoding', 'chunked')
                    self.end_headers()
                    for part in (answer[:7], answer[7:]):
                        self.wfile.write(b'%x\r\n%s\r\n' % (len(part), part))
                    self.wfile.write(b'0\r\n\r\n')
                else:
                    self.send_header('Content-Length', str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = 'http://127.0.0.1:%d/v1/hooks/post-receive' % self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def _conf(tmp_path, url):
    return {'callback_url': url, 'stack_id': 'stack-1', 'secret': 's3cret',
            'spool_dir': str(tmp_path / 'spool'), 'admin_user': 'solum-git',
            'timeout': 2}


def _push(conf, env=None, refs='%s %s refs/heads/main\n' % (SHA_A, SHA_B)):
    out = io.StringIO()
    hook.post_receive(conf, io.StringIO(refs), out,
                      env or {'GL_USER': 'u-alice', 'GL_REPO': 'app'})
    return out.getvalue()


def _dead_url():
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return 'http://127.0.0.1:%d/v1/hooks/post-receive' % s.getsockname()[1]


@pytest.mark.parametrize('key', [b'', b'k', b's' * 64, b'x' * 65, os.urandom(200)])
def test_hand_written_hmac_equals_the_hmac_module(key):
    for message in (b'', b'abc', os.urandom(1000)):
        assert hook.hmac_sha256(key, message) == hmac.new(key, message,
                                                          hashlib.sha256).hexdigest()


def test_the_api_verifies_what_the_hook_signs():
    body = b'{"x": 1}'
    headers = dict(hook.sign('secret', 'stack-1', body, now=1700000000))
    assert headers['X-Solum-Git-Timestamp'] == '1700000000'
    assert headers['X-Solum-Git-Signature'] == signing.signature(
        'secret', 'stack-1', '1700000000', headers['X-Solum-Git-Nonce'], body)
    again = dict(hook.sign('secret', 'stack-1', body, now=1700000000))
    assert again['X-Solum-Git-Nonce'] != headers['X-Solum-Git-Nonce']


@pytest.mark.parametrize('url, parts', [
    ('http://127.0.0.1:9778/v1/hooks/post-receive',
     ('http', '127.0.0.1', 9778, '/v1/hooks/post-receive')),
    ('https://api.example.com/x', ('https', 'api.example.com', 443, '/x')),
    ('http://[::1]:80/', ('http', '::1', 80, '/')),
    ('http://user@host', ('http', 'host', 80, '/')),
])
def test_callback_urls_are_split(url, parts):
    assert hook._split_url(url) == parts


def test_a_push_is_posted_signed_and_reported(tmp_path, receiver):
    conf = _conf(tmp_path, receiver.url)
    out = _push(conf)
    assert out.splitlines() == [
        'solum-git: push recorded: http://api/p/1',
        'solum-git: local run for main queued: http://api/r/1']
    event, headers = receiver.events[0], receiver.headers[0]
    assert event['repo'] == 'app' and event['pusher'] == 'u-alice'
    assert event['refs'] == [{'old': SHA_A, 'new': SHA_B, 'ref': 'refs/heads/main'}]
    body = hook.encode(event)
    assert headers['X-Solum-Git-Signature'] == signing.signature(
        's3cret', 'stack-1', headers['X-Solum-Git-Timestamp'],
        headers['X-Solum-Git-Nonce'], body)


def test_a_chunked_answer_is_read(tmp_path, receiver):
    receiver.chunked = True
    assert 'push recorded: http://api/p/1' in _push(_conf(tmp_path, receiver.url))


def test_api_down_spools_then_the_next_push_delivers_oldest_first(tmp_path, receiver):
    conf = _conf(tmp_path, _dead_url())
    first = _push(conf)
    _push(conf, refs='%s %s refs/heads/dev\n' % (SHA_A, SHA_B))
    assert 'spooled' in first and 'nothing is lost' in first
    spooled = sorted(os.listdir(conf['spool_dir']))
    assert len([n for n in spooled if n.endswith('.json')]) == 2
    assert oct(os.stat(os.path.join(conf['spool_dir'], spooled[-1])).st_mode)[-3:] \
        == '600'
    ids = [json.loads(hook.Spool(conf['spool_dir']).read(n))['push_id']
           for n in hook.Spool(conf['spool_dir']).names()]
    conf['callback_url'] = receiver.url
    third = _push(conf, refs='%s %s refs/heads/x\n' % (SHA_A, SHA_B))
    assert 'delivered 2 earlier push(es)' in third
    assert [e['push_id'] for e in receiver.events][:2] == ids
    assert [e['refs'][0]['ref'] for e in receiver.events] == [
        'refs/heads/main', 'refs/heads/dev', 'refs/heads/x']
    assert hook.Spool(conf['spool_dir']).names() == []


def test_5xx_spools_and_4xx_is_kept_aside(tmp_path, receiver):
    conf = _conf(tmp_path, receiver.url)
    receiver.status = 503
    assert 'spooled' in _push(conf)
    assert len(hook.Spool(conf['spool_dir']).names()) == 1
    receiver.status = 403
    out = io.StringIO()
    assert hook.flush_command(conf, out) == 0
    assert 'refused the push (403): nope' in out.getvalue()
    assert os.listdir(os.path.join(conf['spool_dir'], 'rejected'))
    receiver.status = 201
    out = io.StringIO()
    assert hook.flush_command(conf, out, retry_rejected=True) == 0
    assert 'delivered 1, rejected 0, left 0' in out.getvalue()


def test_flush_says_what_is_left_when_the_api_is_still_down(tmp_path):
    conf = _conf(tmp_path, _dead_url())
    _push(conf)
    out = io.StringIO()
    assert hook.flush_command(conf, out) == 3
    assert 'delivered 0, rejected 0, left 1' in out.getvalue()


def test_pushes_to_gitolite_admin_or_by_the_admin_are_not_reported(tmp_path, receiver):
    conf = _conf(tmp_path, receiver.url)
    assert _push(conf, env={'GL_USER': 'u-alice', 'GL_REPO': 'gitolite-admin'}) == ''
    assert _push(conf, env={'GL_USER': 'solum-git', 'GL_REPO': 'app'}) == ''
    assert receiver.events == []


def test_the_program_never_fails_a_push(tmp_path):
    shim = [sys.executable, str(HOOK), 'post-receive', '--config']
    missing = subprocess.run(shim + [str(tmp_path / 'nope.json')], input='x y z\n',
                             capture_output=True, text=True)
    assert missing.returncode == 0
    assert 'hook not configured' in missing.stdout
    broken = tmp_path / 'broken.json'
    broken.write_text(json.dumps({'callback_url': 'ftp://x', 'stack_id': 's',
                                  'secret': 's', 'spool_dir': str(tmp_path / 'sp')}))
    odd = subprocess.run(shim + [str(broken)], input='%s %s refs/heads/main\n'
                         % (SHA_A, SHA_B), capture_output=True, text=True)
    assert odd.returncode == 0 and odd.stderr == ''
    assert 'solum-git:' in odd.stdout


def test_the_program_runs_standalone_with_the_standard_library_only(tmp_path):
    tree = ast.parse(HOOK.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(a.name.split('.')[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split('.')[0])
    stdlib = set(sys.stdlib_module_names) | {'_sha2'}  # 3.12's name for _sha256
    assert imported <= stdlib, imported - stdlib
    # copied alone, run by the system python3 with no site-packages
    alone = tmp_path / 'solum-git-hook'
    alone.write_bytes(HOOK.read_bytes())
    done = subprocess.run(['/usr/bin/python3', '-I', '-S', str(alone), 'flush',
                           '--config', str(tmp_path / 'none.json')],
                          capture_output=True, text=True)
    assert done.returncode == 2 and 'hook not configured' in done.stdout


JSON_VALUES = [
    {'push_id': 'ab12', 'refs': [{'ref': 'refs/heads/caf\u00e9', 'old': SHA_A, 'new': SHA_B}],
     'pushed_at': 1700000000, 'truncated': False, 'x': None, 'z': 1.5, 'a': [True, -3]},
    'quote " backslash \\ newline \n tab \t nul \x00 emoji \U0001F600', [], {}, 0, -1,
    [[[]], {'k': {'k': ['v']}}], 2 ** 70,
]


@pytest.mark.parametrize('value', JSON_VALUES)
def test_the_hooks_json_equals_the_json_module(value):
    assert hook.dumps(value) == json.dumps(value, separators=(',', ':'), sort_keys=True)
    text = json.dumps(value, indent=2)
    assert hook.loads(text) == json.loads(text)
    assert hook.loads(text.encode()) == json.loads(text)


@pytest.mark.parametrize('text', ['', '{', '{"a": 1,}', '[1 2]', '{"a": NaN}', 'nul',
                                  '{"a": 1} x', '"unterminated', "{'a': 1}"])
def test_the_hooks_json_refuses_what_is_not_json(text):
    with pytest.raises(ValueError):
        hook.loads(text)


def test_a_push_loads_neither_re_json_socket_nor_openssl(tmp_path, receiver):
    """The start-up cost stays low: the heavy modules are not imported on a post."""
    config = tmp_path / 'hook.json'
    config.write_text(json.dumps(_conf(tmp_path, receiver.url)))
    done = subprocess.run(['/usr/bin/python3', '-X', 'importtime', str(HOOK), 'post-receive',
                           '--config', str(config)],
                          input='%s %s refs/heads/main\n' % (SHA_A, SHA_B),
                          capture_output=True, text=True,
                          env={'GL_USER': 'u-alice', 'GL_REPO': 'app', 'PATH': '/usr/bin'})
    assert 'push recorded' in done.stdout, done.stdout + done.stderr
    imported = {line.split('|')[-1].strip() for line in done.stderr.splitlines()
                if line.startswith('import time:')}
    assert not imported & {'re', 'json', 'socket', '_hashlib', 'hashlib', 'http.client',
                           'ssl'}, imported


def test_a_garbled_answer_spools_the_push_instead_of_losing_it(tmp_path):
    import socket
    server = socket.socket()
    server.bind(('127.0.0.1', 0))
    server.listen(4)

    def answer_garbage():
        for _ in range(2):
            conn, _addr = server.accept()
            conn.recv(65536)
            conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: many\r\n\r\n{}')
            conn.close()
    threading.Thread(target=answer_garbage, daemon=True).start()
    conf = _conf(tmp_path, 'http://127.0.0.1:%d/v1/hooks/post-receive'
                 % server.getsockname()[1])
    try:
        out = _push(conf)
    finally:
        server.close()
    assert 'spooled' in out, out
    assert len(hook.Spool(conf['spool_dir']).names()) == 1


def _self_signed(tmp_path):
    """A certificate for 127.0.0.1 and its key, made here (no CA involved)."""
    import datetime
    import ipaddress

    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import serialization
    from cryptography import x509
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'solum-git test API')])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address('127.0.0.1'))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / 'api.crt', tmp_path / 'api.key'
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_an_https_callback_checks_the_apis_certificate(tmp_path, receiver):
    import ssl
    cert, key = _self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    receiver.server.socket = context.wrap_socket(receiver.server.socket, server_side=True)
    conf = _conf(tmp_path, receiver.url.replace('http://', 'https://'))
    untrusted = _push(conf)
    assert 'spooled' in untrusted and 'CERTIFICATE_VERIFY_FAILED' in untrusted
    conf['cafile'] = str(cert)
    trusted = _push(conf)
    assert 'delivered 1 earlier push(es)' in trusted
    assert 'push recorded: http://api/p/1' in trusted
    assert len(receiver.events) == 2
