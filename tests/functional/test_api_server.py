"""solum-git-api on gunicorn, as an operator runs it: workers, HTTP/1.1, the
listen queue, the engine once, a TLS proxy in front, /healthcheck, stopping.
"""
import http.client
import json
import os
import pathlib
import signal
import subprocess
import tempfile
import time

import pytest
import requests

from solum_git.gitolite import ssh
from tests.functional import gitserver
from tests import helpers

H = {'X-Project-Id': 'srv-project', 'X-User-Id': 'srv-user',
     'Content-Type': 'application/json'}
R = '/v1/infrastructure/repos'


def _api(tmp_path, connection, **sections):
    extra = {'engine': {'in_process': 'false'}}
    for name, values in sections.items():
        extra.setdefault(name, {}).update(values)
    api = helpers.ApiProcess(tmp_path, connection, extra=extra)
    api.manage('db', 'upgrade')
    return api


@pytest.fixture
def api(tmp_path, sqlite_url):
    api = _api(tmp_path, sqlite_url, api={'workers': 2})
    api.start()
    yield api
    api.stop()


def _direct_children(pid):
    kids = []
    for name in filter(str.isdigit, os.listdir('/proc')):
        try:
            with open('/proc/%s/stat' % name) as f:
                ppid = int(f.read().rsplit(')', 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            kids.append(int(name))
    return kids


def _cmdline(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return f.read().replace(b'\0', b' ').decode(errors='replace')
    except OSError:
        return ''


def _arbiter(api):
    kids = [p for p in _direct_children(api.proc.pid) if 'solum-git-api' in _cmdline(p)]
    assert len(kids) == 1, kids
    return kids[0]


def _wait_gone(pids, timeout=15):
    gitserver.wait_for(lambda: not [p for p in pids if os.path.exists('/proc/%d' % p)
                                    and _state(p) != 'Z'],
                       timeout=timeout, what='processes %s gone' % pids)


def _state(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0]
    except OSError:
        return None


# -- workers ---------------------------------------------------------------------

def test_four_workers_serve_and_each_answers_from_its_own_process(tmp_path, sqlite_url):
    api = _api(tmp_path, sqlite_url, api={'workers': 4, 'threads': 2})
    api.start()
    try:
        arbiter = _arbiter(api)
        gitserver.wait_for(lambda: len(_direct_children(arbiter)) == 4, timeout=30,
                           what='4 workers')
        workers = set(_direct_children(arbiter))
        # rounds of 40 connections opened at once: which worker accepts one is the
        # kernel's and the workers' race (a busy machine can hand a whole round to
        # one), so rounds go on until a second worker has answered
        served = set()
        for _round in range(20):
            conns = [http.client.HTTPConnection('127.0.0.1', api.port, timeout=30)
                     for _ in range(40)]
            for c in conns:
                c.request('GET', R, headers=H)
            for c in conns:
                assert c.getresponse().read() == b'[]'
            for c in conns:
                served.add(_peer_pid(c.sock, workers))
                c.close()
            if len(served) >= 2:
                break
        assert served <= workers and len(served) >= 2, served
    finally:
        api.stop()


def _peer_pid(sock, candidates):
    """The worker holding the server end of ``sock`` (by its socket inode in /proc)."""
    local = '%08X:%04X' % (0x0100007F, sock.getsockname()[1])
    with open('/proc/net/tcp') as f:
        rows = [r.split() for r in f.read().splitlines()[1:]]
    inodes = {'socket:[%s]' % r[9] for r in rows if r[2] == local}
    for pid in candidates:
        for fd in os.listdir('/proc/%d/fd' % pid):
            try:
                if os.readlink('/proc/%d/fd/%s' % (pid, fd)) in inodes:
                    return pid
            except OSError:
                continue
    return None


def test_with_four_workers_the_engine_runs_once_in_the_first_process(tmp_path):
    with gitserver.stacks_dir() as stacks:
        api = gitserver.GitApi(tmp_path, stacks, extra={'api': {'workers': 4}})
        api.start()
        try:
            dev = gitserver.Dev(api, tmp_path, 'srv-engine', 'alice')
            repo = dev.create_repo('app')
            dev.wait_active(repo)
            arbiter = _arbiter(api)
            workers = _direct_children(arbiter)
            assert len(workers) == 4
            # an engine's stack worker makes /tmp/solum-git-ssh-<pid>-*: only the
            # first process has one, and the workers start no process at all
            made = {int(d.name.split('-')[3]) for d in pathlib.Path(
                tempfile.gettempdir()).glob(ssh.DIR_PREFIX + '*')}
            assert api.proc.pid in made
            assert not made & set(workers + [arbiter]), made & set(workers + [arbiter])
            assert all(_direct_children(w) == [] for w in workers), \
                {w: _direct_children(w) for w in workers}
        finally:
            api.stop()


# -- HTTP/1.1, chunked bodies, the listen queue ---------------------------------------

def test_one_connection_carries_many_requests(api):
    conn = http.client.HTTPConnection('127.0.0.1', api.port, timeout=30)
    try:
        for _ in range(5):
            conn.request('GET', R, headers=H)
            resp = conn.getresponse()
            assert resp.version == 11 and resp.status == 200
            assert resp.read() == b'[]'
            assert resp.getheader('Connection', '').lower() != 'close'
        sock = conn.sock
        conn.request('GET', '/', headers=H)
        conn.getresponse().read()
        assert conn.sock is sock, 'the connection was not kept'
    finally:
        conn.close()


def _chunked_post(port, path, pieces):
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=30)
    try:
        conn.putrequest('POST', path)
        for name, value in H.items():
            conn.putheader(name, value)
        conn.putheader('Transfer-Encoding', 'chunked')
        conn.endheaders()
        for piece in pieces:
            conn.send(b'%x\r\n%s\r\n' % (len(piece), piece))
        conn.send(b'0\r\n\r\n')
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def test_a_chunked_body_is_read_and_one_over_the_limit_is_413(api, tmp_path):
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f',
                    str(tmp_path / 'k')], check=True)
    key = (tmp_path / 'k.pub').read_text().strip()
    body = json.dumps({'name': 'laptop', 'public_key': key}).encode()
    status, answer = _chunked_post(api.port, '/v1/infrastructure/keys',
                                   [body[:10], body[10:40], body[40:]])
    assert status == 201, answer
    assert json.loads(answer)['name'] == 'laptop'
    big = [b'{"name": "big", "description": "'] + [b'x' * 65536] * 20 + [b'"}']
    status, answer = _chunked_post(api.port, R, big)
    assert status == 413, answer
    assert b'body: must be at most 1048576 bytes' in answer
    assert requests.get(api.url + R, headers=H, timeout=30).json() == []


def test_the_listen_queue_is_the_configured_backlog(tmp_path, sqlite_url):
    api = _api(tmp_path, sqlite_url, api={'backlog': 1000})
    api.start()
    try:
        out = subprocess.run(['ss', '-Hltn', 'sport = :%d' % api.port],
                             capture_output=True, text=True, check=True).stdout
        # a listening socket's Send-Q is its backlog
        assert out.split()[2] == '1000', out
    finally:
        api.stop()


# -- behind a TLS proxy --------------------------------------------------------------

PROXIED = {'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'git.example.org'}


def test_behind_a_tls_proxy_links_and_location_name_the_proxy(tmp_path, sqlite_url):
    api = _api(tmp_path, sqlite_url,
               oslo_middleware={'enable_proxy_headers_parsing': 'true'})
    api.start()
    try:
        headers = dict(H, **PROXIED)
        r = requests.post(api.url + R, headers=headers, json={'name': 'one'}, timeout=30)
        assert r.status_code == 201, r.text
        assert r.headers['Location'] == 'https://git.example.org%s/%s' % (
            R, r.json()['uuid'])
        requests.post(api.url + R, headers=headers, json={'name': 'two'}, timeout=30)
        page = requests.get(api.url + R + '?limit=1', headers=headers, timeout=30)
        assert page.headers['Link'].startswith('<https://git.example.org%s?' % R)
        doc = requests.get(api.url + '/v1/infrastructure', headers=headers, timeout=30)
        assert doc.json()['repos_uri'] == 'https://git.example.org' + R
    finally:
        api.stop()


def test_forwarded_headers_are_ignored_unless_the_operator_trusts_a_proxy(api):
    r = requests.post(api.url + R, headers=dict(H, **PROXIED), json={'name': 'one'},
                      timeout=30)
    assert r.status_code == 201, r.text
    assert r.headers['Location'] == '%s%s/%s' % (api.url, R, r.json()['uuid'])


# -- /healthcheck ------------------------------------------------------------------------

def test_healthcheck_answers_without_identity_and_asks_the_database(api):
    r = requests.get(api.url + '/healthcheck', timeout=30)
    assert r.status_code == 200
    assert r.text == 'database: OK'
    assert r.headers['X-OpenStack-Request-Id'].startswith('req-')
    assert requests.head(api.url + '/healthcheck', timeout=30).status_code == 204
    r = requests.post(api.url + '/healthcheck', timeout=30)
    assert r.status_code == 405 and r.headers['Allow'] == 'GET, HEAD'
    # the API behind it still asks who you are
    assert requests.get(api.url + R, timeout=30).status_code == 401


# -- stopping ------------------------------------------------------------------------

def test_sigterm_stops_the_api_its_arbiter_and_workers(api):
    arbiter = _arbiter(api)
    tree = [arbiter] + _direct_children(arbiter)
    proc = api.proc
    api.stop()
    assert proc.returncode == 0
    _wait_gone(tree)


def test_kill_9_of_the_api_takes_its_workers_down_and_frees_the_port(api):
    arbiter = _arbiter(api)
    tree = [arbiter] + _direct_children(arbiter)
    api.proc.send_signal(signal.SIGKILL)
    api.proc.wait()
    _wait_gone(tree)
    assert helpers.listening_pids(api.port) == set()
    with pytest.raises(requests.ConnectionError):
        requests.get(api.url + '/', timeout=5)


def test_a_dead_http_server_stops_the_api_loudly(api):
    arbiter = _arbiter(api)
    os.kill(arbiter, signal.SIGKILL)
    assert api.proc.wait(30) == 1
    assert 'API server exited (signal 9); stopping' in api.log_path.read_text()


def test_a_port_in_use_is_refused_in_one_line(tmp_path, sqlite_url):
    with helpers.closed_port() as port:
        api = _api(tmp_path, sqlite_url)
        api._use_port(port)
        done = subprocess.run(api.argv('api') + ['--config-file', str(api.config)],
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert 'cannot listen on 127.0.0.1 port %d: Address already in use' % port in (
        done.stdout + done.stderr)


# -- solum-git-api-wsgi: the app for a WSGI server of the operator's -----------------------

def test_the_wsgi_script_app_runs_under_another_server(tmp_path, sqlite_url):
    api = _api(tmp_path, sqlite_url)
    port = helpers.free_port()
    env = dict(os.environ, SOLUM_GIT_CONFIG_FILE=str(api.config))
    log = open(tmp_path / 'wsgi.log', 'wb')
    proc = subprocess.Popen(
        [os.path.join(helpers.VENV_BIN, 'gunicorn'), '--bind', '127.0.0.1:%d' % port,
         '--no-control-socket', 'solum_git.api.wsgi:init_application()'],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=str(tmp_path))
    try:
        helpers.wait_for_own_http('http://127.0.0.1:%d/' % port, proc, port,
                                  log_path=tmp_path / 'wsgi.log')
        url = 'http://127.0.0.1:%d' % port
        assert requests.get(url + '/healthcheck', timeout=30).text == 'database: OK'
        r = requests.post(url + R, headers=H, json={'name': 'via-wsgi'}, timeout=30)
        assert r.status_code == 201, r.text
        # no engine in it: the repo waits for a solum-git-engine
        time.sleep(1)
        assert requests.get(url + R, headers=H, timeout=30).json()[0]['status'] == 'BUILDING'
    finally:
        helpers.stop_process(proc)
        log.close()
