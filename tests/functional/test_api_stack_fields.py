"""Solum's InfrastructureStack fields on POST and PUT /v1/infrastructure/stacks.

Solum's own type (solum/api/controllers/v1/datamodel/infrastructure.py) has
uri, uuid, name, type, description, tags, project_id, user_id, image_id and
heat_stack_id. A client may send all of them: ``image_id`` picks the Glance
image of a Heat VM git server, the rest are solum-git's and must come back
unchanged (or not at all).
"""
import pytest
import sqlalchemy as sa

from solum_git.db import models
from tests import helpers

S = '/v1/infrastructure/stacks'
SOLUM_FIELDS = ('uri', 'uuid', 'name', 'type', 'description', 'tags', 'project_id',
                'user_id', 'image_id', 'heat_stack_id')


@pytest.fixture
def heat_api(make_root, sqlite_url):
    root = make_root(sqlite_url, provisioner={'driver': 'heat'},
                     heat={'server_type': 'vm', 'image': 'operators-image',
                           'network': 'private'})
    server = helpers.ThreadedApi(root).start()
    yield server, helpers.Client(server.url, 'project-a', 'alice')
    server.stop()


def _stack_row(api):
    with api.root.db.reader() as session:
        return session.execute(sa.select(models.Stack)).scalar_one()


def test_a_get_body_put_back_is_200_and_changes_nothing(sqlite_api, alice):
    made = alice.post(S, {'name': 'git', 'tags': ['a']})
    assert made.status_code == 201, made.text
    stack = alice.get(made.headers['Location']).json()
    assert set(SOLUM_FIELDS) <= set(stack)
    r = alice.put(S + '/' + stack['uuid'], stack)
    assert r.status_code == 200, r.text
    again = r.json()
    assert {k: again[k] for k in SOLUM_FIELDS} == {k: stack[k] for k in SOLUM_FIELDS}


def test_a_get_body_with_a_new_name_put_back_renames(sqlite_api, alice):
    stack = alice.post(S, {'name': 'git'}).json()
    stack['name'] = 'renamed'
    r = alice.put(S + '/' + stack['uuid'], stack)
    assert r.status_code == 200, r.text
    assert alice.get(S + '/' + stack['uuid']).json()['name'] == 'renamed'


@pytest.mark.parametrize('field,value', [
    ('heat_stack_id', '6c3bd2ae-0000-4000-8000-000000000000'),
    ('uuid', '6c3bd2ae-0000-4000-8000-000000000001'),
    ('uri', 'http://elsewhere.example.com/v1/infrastructure/stacks/x'),
    ('project_id', 'project-b'),
    ('user_id', 'mallory'),
    ('type', 'plan'),
    ('provisioner', 'heat'),
    ('ssh_port', 2222),
    ('created_at', '2001-01-01T00:00:00'),
])
def test_a_changed_read_only_field_is_400_naming_it_and_changes_nothing(
        sqlite_api, alice, field, value):
    stack = alice.post(S, {'name': 'git'}).json()
    before = alice.get(S + '/' + stack['uuid']).json()
    body = dict(before, name='renamed', **{field: value})
    r = alice.put(S + '/' + stack['uuid'], body)
    assert r.status_code == 400, r.text
    assert r.json()['faultstring'].startswith(field + ': is set by solum-git')
    assert alice.get(S + '/' + stack['uuid']).json()['name'] == 'git'


def test_post_takes_the_fields_a_new_stack_will_have_and_refuses_others(sqlite_api,
                                                                        alice):
    r = alice.post(S, {'name': 'git', 'type': 'infrastructure_stack',
                       'project_id': 'project-a', 'user_id': 'alice',
                       'heat_stack_id': None, 'uuid': None})
    assert r.status_code == 201, r.text
    alice.delete(r.headers['Location'])
    for field, value in (('heat_stack_id', 'abc'), ('project_id', 'project-b'),
                         ('uuid', 'mine')):
        other = helpers.Client(sqlite_api.url, 'project-%s' % field, 'alice')
        r = other.post(S, {'name': 'git', field: value})
        assert r.status_code == 400, r.text
        assert r.json()['faultstring'].startswith(field + ': is set by solum-git')
        assert other.get(S).json() == []


def test_image_id_needs_a_heat_vm_git_server(sqlite_api, alice):
    r = alice.post(S, {'name': 'git', 'image_id': 'debian-12'})
    assert r.status_code == 400
    assert r.json()['faultstring'].startswith('image_id: only a git server that is a '
                                              'Heat VM has an image')
    assert alice.get(S).json() == []


def test_image_id_chooses_the_glance_image_of_a_heat_vm(heat_api):
    server, alice = heat_api
    r = alice.post(S, {'name': 'git', 'image_id': 'debian-12-git'})
    assert r.status_code == 201, r.text
    stack = r.json()
    assert stack['image_id'] == 'debian-12-git'
    row = _stack_row(server)
    params = server.root.provisioner.parameters(row, {
        'callback_url': 'http://127.0.0.1:9/v1/hooks/post-receive',
        'admin_public_key': 'ssh-ed25519 AAAA admin'}, 'host key', 'ssh-ed25519 AAAA host')
    assert params['image'] == 'debian-12-git'
    # unchanged is fine, another image is refused
    assert alice.put(S + '/' + stack['uuid'], stack).status_code == 200
    r = alice.put(S + '/' + stack['uuid'], dict(stack, image_id='ubuntu'))
    assert r.status_code == 400
    assert r.json()['faultstring'].startswith('image_id: is chosen when the stack is made')
