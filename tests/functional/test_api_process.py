"""The real solum-git-api console script, served over HTTP, as an operator runs it."""
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
