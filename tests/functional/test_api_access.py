"""Who sees and changes what: projects, the admin role, RW+ members."""
import pytest
import requests

R = '/v1/infrastructure/repos'

# a local trigger as the API takes it (a command is required)
LOCAL = {'type': 'local', 'config': {'test_cmd': 'true'}}


@pytest.fixture
def repo(alice):
    r = alice.post(R, {'name': 'app'})
    assert r.status_code == 201, r.text
    return r.json()


def test_no_identity_headers_is_401(sqlite_api):
    import requests
    r = requests.get(sqlite_api.url + R)
    assert r.status_code == 401
    assert 'X-Project-Id' in r.json()['faultstring']
    r = requests.get(sqlite_api.url + R, headers={'X-Project-Id': 'p'})
    assert r.status_code == 401 and 'X-User-Id' in r.json()['faultstring']


def test_another_projects_repo_is_404_everywhere(repo, mallory):
    for path in ('', '/members', '/triggers', '/members/alice'):
        assert mallory.get(repo['uri'] + path).status_code == 404, path
    assert mallory.put(repo['uri'], {'description': 'x'}).status_code == 404
    assert mallory.delete(repo['uri']).status_code == 404
    assert mallory.put(repo['members_uri'] + '/mallory',
                       {'permission': 'RW+'}).status_code == 404
    assert mallory.post(repo['triggers_uri'], LOCAL).status_code == 404
    assert mallory.get(repo['stack_uri']).status_code == 404
    assert mallory.delete(repo['stack_uri']).status_code == 404
    assert mallory.post(repo['stack_uri'] + '/actions',
                        {'action': 'resync'}).status_code == 404
    assert mallory.get(R).json() == []
    assert mallory.get('/v1/infrastructure/stacks').json() == []


def test_another_projects_404_looks_like_a_missing_one(repo, mallory):
    import uuid
    theirs = mallory.get(repo['uri']).json()
    missing = mallory.get(R + '/' + str(uuid.uuid4())).json()
    assert theirs['faultstring'].replace(repo['uuid'], 'X') == \
        missing['faultstring'].split(' not found')[0].rsplit(' ', 1)[0] + ' X not found'


def test_same_name_in_two_projects_is_fine(repo, mallory):
    assert mallory.post(R, {'name': 'app'}).status_code == 201


def test_admin_sees_all_projects(repo, mallory, admin):
    mallory.post(R, {'name': 'm1'})
    names = sorted(r['name'] for r in admin.get(R).json())
    assert names == ['app', 'm1']
    assert admin.get(repo['uri']).status_code == 200
    assert len(admin.get('/v1/infrastructure/stacks').json()) == 2


def test_only_rw_plus_members_change_members_and_triggers(repo, alice, bob):
    # bob is in alice's project: he sees the repo but cannot change its access
    assert bob.get(repo['uri']).status_code == 200
    r = bob.put(repo['members_uri'] + '/bob', {'permission': 'RW+'})
    assert r.status_code == 403 and 'RW+' in r.json()['faultstring']
    assert bob.post(repo['triggers_uri'], LOCAL).status_code == 403
    assert bob.delete(repo['uri']).status_code == 403
    assert alice.put(repo['members_uri'] + '/bob', {'permission': 'RW'}).status_code == 200
    # RW is not enough either
    assert bob.put(repo['members_uri'] + '/carol', {'permission': 'R'}).status_code == 403
    assert bob.post(repo['triggers_uri'], LOCAL).status_code == 403
    assert alice.put(repo['members_uri'] + '/bob', {'permission': 'RW+'}).status_code == 200
    assert bob.put(repo['members_uri'] + '/carol', {'permission': 'R'}).status_code == 200
    assert bob.post(repo['triggers_uri'], LOCAL).status_code == 201


def test_last_rw_plus_member_stays(repo, alice):
    r = alice.put(repo['members_uri'] + '/alice', {'permission': 'R'})
    assert r.status_code == 409
    assert alice.delete(repo['members_uri'] + '/alice').status_code == 409
    assert alice.get(repo['members_uri']).json()[0]['permission'] == 'RW+'


def test_keys_are_the_callers_own(alice, bob, tmp_path):
    import subprocess
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f',
                    str(tmp_path / 'k')], check=True)
    key = alice.post('/v1/infrastructure/keys',
                     {'public_key': (tmp_path / 'k.pub').read_text()}).json()
    assert key['user_id'] == 'alice'
    assert bob.get(key['uri']).status_code == 404
    assert bob.delete(key['uri']).status_code == 404
    assert bob.get('/v1/infrastructure/keys').json() == []
    assert [k['uuid'] for k in alice.get('/v1/infrastructure/keys').json()] == [key['uuid']]


def test_stack_lifecycle_rules(alice, repo):
    stacks = alice.get('/v1/infrastructure/stacks').json()
    assert len(stacks) == 1
    stack = stacks[0]
    again = alice.post('/v1/infrastructure/stacks', {'name': 'x'})
    assert again.status_code == 409
    r = alice.delete(stack['uri'])
    assert r.status_code == 409 and 'repos' in r.json()['faultstring']
    r = alice.put(stack['uri'], {'description': 'our git'})
    assert r.status_code == 200 and r.json()['description'] == 'our git'
    assert alice.post(stack['uri'] + '/actions', {'action': 'resync'}).status_code == 202
    bad = alice.post(stack['uri'] + '/actions', {'action': 'reboot'})
    assert bad.status_code == 400 and bad.json()['faultstring'].startswith('action:')


def test_deleting_the_last_repo_deletes_the_stack(alice, repo):
    assert alice.delete(repo['uri']).status_code == 204
    stack = alice.get(repo['stack_uri']).json()
    assert stack['status'] == 'DELETING'
    r = alice.post(R, {'name': 'again'})
    assert r.status_code == 409 and 'being deleted' in r.json()['faultstring']


def test_another_projects_uuid_is_no_marker(repo, mallory):
    r = mallory.get(R + '?marker=' + repo['uuid'])
    assert r.status_code == 400
    assert r.json()['faultstring'].startswith('marker:')


def test_the_root_answers_get_only(sqlite_api, alice):
    assert alice.get('/').status_code == 200
    for method in ('POST', 'PUT', 'DELETE'):
        assert alice.session.request(method, sqlite_api.url + '/',
                                     timeout=30).status_code == 405
    # no other name reaches the version document
    assert alice.get('/index').status_code == 404


def test_openapi_document_is_the_same_with_or_without_identity(sqlite_api, alice):
    r = alice.get('/v1/openapi.json')
    assert r.status_code == 200 and r.json()['info']['title'] == 'solum-git'
    assert requests.get(sqlite_api.url + '/v1/openapi.json', timeout=30).content == r.content
