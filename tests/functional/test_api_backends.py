"""The REST API over real HTTP on SQLite, MariaDB and PostgreSQL."""
import sqlalchemy as sa

from solum_git.db import models
from tests import helpers


def _client(api, project='p1', user='u1', **kw):
    return helpers.Client(api.url, project, user, **kw)


def _count(api, model):
    with api.root.db.reader() as session:
        return session.execute(sa.select(sa.func.count()).select_from(model)).scalar()


def test_repo_create_records_repo_stack_and_creator_membership(api):
    c = _client(api)
    r = c.post('/v1/infrastructure/repos', {'name': 'app', 'description': 'demo'})
    assert r.status_code == 201, r.text
    repo = r.json()
    assert repo['status'] == 'BUILDING'
    assert repo['name'] == 'app' and repo['default_branch'] == 'main'
    assert repo['project_id'] == 'p1' and repo['user_id'] == 'u1'
    assert r.headers['Location'] == repo['uri']
    stack = c.get(repo['stack_uri']).json()
    assert stack['type'] == 'infrastructure_stack' and stack['kind'] == 'git'
    assert stack['project_id'] == 'p1' and stack['status'] == 'BUILDING'
    assert repo['git_url'] == 'ssh://%s@%s:%d/app' % (
        stack['ssh_user'], stack['ssh_host'], stack['ssh_port'])
    members = c.get(repo['members_uri']).json()
    assert [(m['user_id'], m['permission']) for m in members] == [('u1', 'RW+')]
    assert 'hook_secret' not in stack and 'admin_private_key' not in stack


def test_second_repo_reuses_the_projects_stack(api):
    c = _client(api)
    a = c.post('/v1/infrastructure/repos', {'name': 'a'}).json()
    b = c.post('/v1/infrastructure/repos', {'name': 'b'}).json()
    assert a['stack_uri'] == b['stack_uri']
    other = _client(api, project='p2').post('/v1/infrastructure/repos', {'name': 'a'})
    assert other.status_code == 201
    assert other.json()['stack_uri'] != a['stack_uri']
    assert len(c.get('/v1/infrastructure/stacks').json()) == 1


def test_duplicate_name_is_409_and_writes_nothing(api):
    c = _client(api)
    assert c.post('/v1/infrastructure/repos', {'name': 'dup'}).status_code == 201
    before = (_count(api, models.Repo), _count(api, models.Member))
    r = c.post('/v1/infrastructure/repos', {'name': 'dup'})
    assert r.status_code == 409
    assert r.json()['faultstring'].startswith('name:')
    assert (_count(api, models.Repo), _count(api, models.Member)) == before


def test_paging_newest_first_with_marker_and_link(api):
    c = _client(api)
    names = ['r%02d' % i for i in range(7)]
    for name in names:
        assert c.post('/v1/infrastructure/repos', {'name': name}).status_code == 201
    page1 = c.get('/v1/infrastructure/repos?limit=3')
    assert [r['name'] for r in page1.json()] == ['r06', 'r05', 'r04']
    assert 'rel="next"' in page1.headers['Link']
    marker = page1.json()[-1]['uuid']
    page2 = c.get('/v1/infrastructure/repos?limit=3&marker=' + marker).json()
    assert [r['name'] for r in page2] == ['r03', 'r02', 'r01']
    asc = c.get('/v1/infrastructure/repos?sort_key=name&sort_dir=asc&limit=100').json()
    assert [r['name'] for r in asc] == names
    last = c.get('/v1/infrastructure/repos?limit=3&marker=' + page2[-1]['uuid'])
    assert [r['name'] for r in last.json()] == ['r00']
    assert 'Link' not in last.headers


def test_keys_members_triggers_crud(api, tmp_path):
    import subprocess
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f',
                    str(tmp_path / 'k')], check=True)
    pub = (tmp_path / 'k.pub').read_text()
    c = _client(api)
    key = c.post('/v1/infrastructure/keys', {'name': 'laptop', 'public_key': pub})
    assert key.status_code == 201, key.text
    assert key.json()['fingerprint'].startswith('SHA256:')
    again = _client(api, user='u2').post('/v1/infrastructure/keys', {'public_key': pub})
    assert again.status_code == 409
    repo = c.post('/v1/infrastructure/repos', {'name': 'app'}).json()
    m = c.put(repo['members_uri'] + '/u2', {'permission': 'RW'})
    assert m.status_code == 200, m.text
    assert m.json()['permission'] == 'RW'
    t = c.post(repo['triggers_uri'], {'type': 'local', 'branches': 'main',
                                      'config': {'test_cmd': 'make test'}})
    assert t.status_code == 201, t.text
    assert c.get(repo['triggers_uri']).json()[0]['config'] == {'test_cmd': 'make test'}
    assert c.delete(t.json()['uri']).status_code == 204
    assert c.delete(repo['members_uri'] + '/u2').status_code == 204
    assert c.delete(key.json()['uri']).status_code == 204
    assert c.delete(repo['uri']).status_code == 204
    assert c.get(repo['uri']).status_code == 404
    assert _count(api, models.Member) == 0 and _count(api, models.Trigger) == 0


def test_public_url_is_used_in_uris(make_root, sqlite_url):
    root = make_root(sqlite_url, api={'public_url': 'https://git.example.com/'})
    server = helpers.ThreadedApi(root).start()
    try:
        repo = _client(server).post('/v1/infrastructure/repos', {'name': 'a'}).json()
        assert repo['uri'].startswith('https://git.example.com/v1/infrastructure/repos/')
        assert repo['stack_uri'].startswith('https://git.example.com/v1/')
    finally:
        server.stop()


def test_control_characters_in_path_or_query_are_400(api):
    c = _client(api)
    repo = c.post('/v1/infrastructure/repos', {'name': 'a'}).json()
    for path in ('/v1/infrastructure/repos/%00', '/v1/infrastructure/stacks/a%00b',
                 '/v1/infrastructure/repos?marker=%00',
                 '/v1/infrastructure/repos?sort_key=name%00',
                 '/v1/infrastructure/keys/%01', repo['uri'] + '/members/u%00'):
        r = c.get(path)
        assert r.status_code == 400, (path, r.text)
        assert 'control characters' in r.json()['faultstring']
    assert c.get(repo['uri']).status_code == 200
