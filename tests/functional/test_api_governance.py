"""Protected branches and quotas through the real API over HTTP.

What the git server does with them is in test_git_governance.py; here: the
shapes, the input rules (400 naming the field), who may change them (RW+
members for branches, admins for quotas) and the counted quotas' 403s.
"""
import subprocess
import urllib.parse

import pytest
import sqlalchemy as sa

from solum_git.db import models
from tests import helpers

R = '/v1/infrastructure/repos'
# a local trigger needs a command
LOCAL_TRIGGER = {'type': 'local', 'config': {'test_cmd': 'true'}}
Q = '/v1/infrastructure/quotas'


def _pb(repo, pattern=None):
    base = repo['uri'] + '/protected_branches'
    return base if pattern is None else base + '/' + urllib.parse.quote(pattern, safe='')


@pytest.fixture
def repo(alice):
    r = alice.post(R, {'name': 'app'})
    assert r.status_code == 201, r.text
    return r.json()


def test_a_protected_branch_defaults_to_rw_plus_no_force_no_delete(alice, repo):
    assert repo['protected_branches_uri'] == _pb(repo)
    r = alice.put(_pb(repo, 'main'), {})
    assert r.status_code == 200, r.text
    rule = r.json()
    assert (rule['pattern'], rule['push'], rule['allow_force_push'],
            rule['allow_delete']) == ('main', 'RW+', False, False)
    assert rule['uri'] == _pb(repo, 'main')
    assert alice.get(_pb(repo, 'main')).json()['push'] == 'RW+'


def test_a_glob_with_a_slash_round_trips_url_encoded(alice, repo):
    r = alice.put(_pb(repo, 'release/*'), {'push': 'RW', 'allow_force_push': True})
    assert r.status_code == 200, r.text
    assert r.json()['pattern'] == 'release/*'
    listed = alice.get(_pb(repo)).json()
    assert [(p['pattern'], p['push'], p['allow_force_push']) for p in listed] == [
        ('release/*', 'RW', True)]
    assert alice.get(_pb(repo, 'release/*')).json()['push'] == 'RW'
    # replaced whole: what is left out goes back to its default
    r = alice.put(_pb(repo, 'release/*'), {'allow_delete': True})
    assert (r.json()['push'], r.json()['allow_force_push'], r.json()['allow_delete']) \
        == ('RW+', False, True)
    assert alice.delete(_pb(repo, 'release/*')).status_code == 204
    assert alice.get(_pb(repo)).json() == []
    assert alice.get(_pb(repo, 'release/*')).status_code == 404
    assert alice.delete(_pb(repo, 'release/*')).status_code == 404


@pytest.mark.parametrize('pattern', ['a..b', 'HEAD', '*.lock', 'a[b', '-x', '.*', 'a b'])
def test_a_pattern_no_branch_can_match_is_a_400_naming_pattern(alice, repo, pattern):
    r = alice.put(_pb(repo, pattern), {})
    assert r.status_code == 400, r.text
    assert r.json()['faultstring'].startswith('pattern: must be a branch name or a glob')
    assert alice.get(_pb(repo)).json() == []


@pytest.mark.parametrize('body,field', [
    ({'push': 'R'}, 'push'), ({'push': 'rw'}, 'push'),
    ({'allow_force_push': 'yes'}, 'allow_force_push'),
    ({'allow_delete': 1}, 'allow_delete'), ({'allow_delete': None}, None)])
def test_bad_fields_are_400s_naming_the_field(alice, repo, body, field):
    r = alice.put(_pb(repo, 'main'), body)
    if field is None:   # null: the default
        assert r.status_code == 200 and r.json()['allow_delete'] is False
        return
    assert r.status_code == 400, r.text
    assert r.json()['faultstring'].startswith(field + ': must'), r.text
    assert alice.get(_pb(repo)).json() == []


def test_only_rw_plus_members_change_protected_branches(alice, bob, mallory, repo):
    r = alice.put(repo['members_uri'] + '/bob', {'permission': 'RW'})
    assert r.status_code in (200, 201), r.text
    assert alice.put(_pb(repo, 'main'), {}).status_code == 200
    # bob (RW) may read the rules, not change them
    assert [p['pattern'] for p in bob.get(_pb(repo)).json()] == ['main']
    r = bob.put(_pb(repo, 'main'), {'push': 'RW'})
    assert r.status_code == 403 and 'only RW+ members' in r.json()['faultstring'], r.text
    assert bob.delete(_pb(repo, 'main')).status_code == 403
    assert alice.get(_pb(repo, 'main')).json()['push'] == 'RW+'
    # another project's user does not learn the repo exists
    assert mallory.get(_pb(repo)).status_code == 404
    assert mallory.put(_pb(repo, 'main'), {}).status_code == 404


def test_quota_defaults_come_from_config_and_a_project_reads_its_own(alice, mallory):
    r = alice.get(Q + '/project-a')
    assert r.status_code == 200, r.text
    q = r.json()
    assert {k: q[k] for k in ('repos', 'keys_per_user', 'triggers_per_repo',
                              'repo_size_mb')} == {
        'repos': -1, 'keys_per_user': -1, 'triggers_per_repo': -1, 'repo_size_mb': -1}
    assert q['usage'] == {'repos': 0, 'largest_repo_bytes': 0}
    assert q['project_id'] == 'project-a'
    assert mallory.get(Q + '/project-a').status_code == 403


def test_only_admins_set_quotas(alice, admin):
    r = alice.put(Q + '/project-a', {'repos': 100})
    assert r.status_code == 403, r.text
    r = admin.put(Q + '/project-a', {'repos': 2, 'repo_size_mb': 5})
    assert r.status_code == 200, r.text
    assert (r.json()['repos'], r.json()['repo_size_mb'], r.json()['keys_per_user']) \
        == (2, 5, -1)
    # left out: kept; null: back to the default
    r = admin.put(Q + '/project-a', {'repo_size_mb': None})
    assert (r.json()['repos'], r.json()['repo_size_mb']) == (2, -1)
    assert alice.get(Q + '/project-a').json()['repos'] == 2


@pytest.mark.parametrize('body,field', [
    ({'repos': -2}, 'repos'), ({'repos': 'ten'}, 'repos'), ({'repos': 1.5}, 'repos'),
    ({'repos': True}, 'repos'), ({'disk': 1}, 'disk'),
    ({'triggers_per_repo': 2 ** 31}, 'triggers_per_repo')])
def test_bad_quota_values_are_400s_naming_the_field(admin, body, field):
    r = admin.put(Q + '/project-a', body)
    assert r.status_code == 400, r.text
    fault = r.json()['faultstring']
    # an unknown field is WSME's to refuse: its message names it too
    assert fault.startswith(field + ': ') or fault.endswith(': ' + field), r.text
    assert admin.get(Q + '/project-a').json()['repos'] == -1


def test_repo_count_quota_is_a_403_naming_quota_and_limit(alice, bob, admin):
    assert admin.put(Q + '/project-a', {'repos': 2}).status_code == 200
    assert alice.post(R, {'name': 'one'}).status_code == 201
    assert bob.post(R, {'name': 'two'}).status_code == 201
    r = alice.post(R, {'name': 'three'})
    assert r.status_code == 403, r.text
    assert r.json()['faultstring'] == ('quota repos: project project-a has 2 repos, '
                                       'its limit is 2 (ask an admin to raise it)')
    assert [x['name'] for x in alice.get(R).json()] == ['two', 'one']
    assert alice.get(Q + '/project-a').json()['usage']['repos'] == 2


def test_keys_per_user_quota_is_a_403(alice, admin, tmp_path):
    assert admin.put(Q + '/project-a', {'keys_per_user': 1}).status_code == 200
    keys = [_public_key(tmp_path, n) for n in ('k1', 'k2')]
    assert alice.post('/v1/infrastructure/keys', {'public_key': keys[0]}).status_code == 201
    r = alice.post('/v1/infrastructure/keys', {'public_key': keys[1]})
    assert r.status_code == 403, r.text
    assert r.json()['faultstring'].startswith('quota keys_per_user: user alice has 1 '
                                              'SSH keys, its limit is 1')
    assert len(alice.get('/v1/infrastructure/keys').json()) == 1


def test_triggers_per_repo_quota_is_a_403(alice, admin, repo):
    assert admin.put(Q + '/project-a', {'triggers_per_repo': 1}).status_code == 200
    assert alice.post(repo['triggers_uri'], LOCAL_TRIGGER).status_code == 201
    r = alice.post(repo['triggers_uri'], LOCAL_TRIGGER)
    assert r.status_code == 403, r.text
    assert r.json()['faultstring'].startswith('quota triggers_per_repo: repo app has 1 '
                                              'triggers, its limit is 1')
    assert len(alice.get(repo['triggers_uri']).json()) == 1


def test_repo_view_has_size_bytes_null_before_any_push(alice, repo):
    assert 'size_bytes' in repo and repo['size_bytes'] is None


def _public_key(tmp_path, name):
    path = tmp_path / name
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', str(path)],
                   check=True)
    return (tmp_path / (name + '.pub')).read_text()


def test_counted_quotas_and_rules_on_every_backend(api):
    """SQLite, MariaDB and PostgreSQL: the row lock the count takes, the tables."""
    alice = helpers.Client(api.url, 'project-b', 'alice')
    admin = helpers.Client(api.url, 'admin-project', 'root-user', roles=['admin'])
    assert admin.put(Q + '/project-b', {'repos': 2, 'triggers_per_repo': 1}).status_code \
        == 200
    keep = alice.post(R, {'name': 'keep'}).json()
    repo = alice.post(R, {'name': 'one'}).json()
    r = alice.post(R, {'name': 'two'})
    assert r.status_code == 403 and r.json()['faultstring'].startswith('quota repos:')
    assert alice.post(repo['triggers_uri'], LOCAL_TRIGGER).status_code == 201
    assert alice.post(repo['triggers_uri'], LOCAL_TRIGGER).status_code == 403
    assert alice.put(_pb(repo, 'release/*'), {'push': 'RW'}).status_code == 200
    assert alice.put(_pb(keep, 'main'), {}).status_code == 200
    assert [p['pattern'] for p in alice.get(_pb(repo)).json()] == ['release/*']
    # a deleted repo takes its rules with it, and frees its place in the quota
    assert alice.delete(repo['uri']).status_code == 204
    with api.root.db.reader() as session:
        left = session.execute(sa.select(models.ProtectedBranch.pattern)).scalars().all()
    assert left == ['main']
    assert alice.post(R, {'name': 'two'}).status_code == 201
