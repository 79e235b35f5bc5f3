"""render: database rows -> gitolite.conf and keydir, checked against golden files.

Regenerate the golden files after an intended change with
SOLUM_GIT_UPDATE_GOLDEN=1 pytest tests/unit/test_render.py (and read the diff).
"""
import os
import pathlib

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives import serialization
import pytest

from solum_git.gitolite import render

GOLDEN = pathlib.Path(__file__).parent / 'golden'


def _key(seed, comment=''):
    """A real ed25519 public key line, the same on every run (golden files)."""
    private = ed25519.Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)
    line = private.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                             serialization.PublicFormat.OpenSSH).decode()
    return (line + ' ' + comment).strip()


def _ecdsa(seed):
    private = ec.derive_private_key(seed, ec.SECP256R1())
    return private.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                             serialization.PublicFormat.OpenSSH).decode()


ADMIN_KEY = _key(1, 'solum-git-admin')
ALICE_1 = _key(2, 'alice@laptop')
ALICE_2 = _ecdsa(3)
BOB = _key(4)
CAROL = _key(5)
DAVE = _key(6)


def _golden(name, text):
    path = GOLDEN / name
    if os.environ.get('SOLUM_GIT_UPDATE_GOLDEN'):
        path.write_text(text)
    assert text == path.read_text(), 'differs from %s' % path


def _keydir_text(keydir):
    return ''.join('%s: %s' % (path, keydir[path]) for path in sorted(keydir))


def project():
    repos = [render.Repo('web'), render.Repo('api'), render.Repo('docs.site_v2')]
    members = [
        render.Member('web', 'alice', 'RW+'), render.Member('web', 'bob', 'RW'),
        render.Member('web', 'carol', 'R'), render.Member('api', 'alice', 'RW+'),
        render.Member('api', 'carol', 'RW'), render.Member('docs.site_v2', 'bob', 'RW+'),
        # a member of a repo that is not on this stack is not rendered
        render.Member('elsewhere', 'erin', 'RW+'),
    ]
    keys = [
        render.Key('0b3f6c36-1d7e-4a43-9a6e-5b1c2d3e4f50', 'alice', ALICE_1),
        render.Key('7c1e2d3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f', 'alice', ALICE_2),
        render.Key('1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d', 'bob', BOB),
        render.Key('2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e', 'carol', CAROL),
        # dave has a key but no repo here: his key must not reach this server
        render.Key('3c4d5e6f-7a8b-4c9d-0e1f-2a3b4c5d6e7f', 'dave', DAVE),
    ]
    return repos, members, keys


def test_project_matches_golden_conf_and_keydir():
    rendered = render.render(*project(), ADMIN_KEY)
    _golden('project.conf', rendered.conf)
    _golden('project.keydir', _keydir_text(rendered.keydir))
    assert rendered.repos == ('api', 'docs.site_v2', 'web')
    assert rendered.skipped == ()


def test_empty_stack_has_only_the_admin_repo():
    rendered = render.render([], [], [], ADMIN_KEY)
    _golden('empty.conf', rendered.conf)
    assert rendered.keydir == {'solum-git.pub': ADMIN_KEY.rsplit(' ', 1)[0] + '\n'}


def test_input_order_does_not_change_the_output():
    repos, members, keys = project()
    first = render.render(repos, members, keys, ADMIN_KEY)
    second = render.render(repos[::-1], members[::-1], keys[::-1], ADMIN_KEY)
    assert first == second


def test_keys_only_for_users_with_access_on_this_stack():
    rendered = render.render(*project(), ADMIN_KEY)
    users = {path.split('/')[0] for path in rendered.keydir if '/' in path}
    assert users == {'u-alice', 'u-bob', 'u-carol'}
    assert not any('dave' in path or 'erin' in path for path in rendered.keydir)


def test_keydir_files_hold_only_type_and_key():
    rendered = render.render(*project(), ADMIN_KEY)
    for path, text in rendered.keydir.items():
        assert text.count('\n') == 1 and len(text.split()) == 2, (path, text)
    assert 'alice@laptop' not in _keydir_text(rendered.keydir)


def test_gitolite_names_cannot_collide_with_the_admin_or_special_names():
    # user ids that mean something to gitolite get the u- prefix like any other
    for user_id in ('solum-git', 'CREATOR', 'daemon', 'gitweb', 'all', 'none'):
        assert render.gitolite_user(user_id) == 'u-' + user_id
    assert render.gitolite_user('solum-git') != render.ADMIN_USER


@pytest.mark.parametrize('user_id', ['@all', 'alice@home', 'a b', '', '-x', 'x' * 65,
                                     'alice\n', 'al/ice', '../x', 'a.pub@x'])
def test_unsafe_user_ids_are_refused(user_id):
    with pytest.raises(ValueError):
        render.gitolite_user(user_id)


def test_unsafe_rows_are_left_out_and_reported():
    repos = [render.Repo('ok'), render.Repo('gitolite-admin'), render.Repo('x.git'),
             render.Repo('a..b'), render.Repo('@all')]
    members = [render.Member('ok', 'alice', 'RW+'), render.Member('ok', '@all', 'RW+'),
               render.Member('ok', 'bob', 'ADMIN')]
    keys = [render.Key('k1', 'alice', ALICE_1 + '\ncommand="sh" ' + BOB),
            render.Key('k2', 'alice', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDaveDave'),
            render.Key('k3', 'alice', 'ssh-rsa ' + ALICE_1.split()[1]),
            render.Key('../k4', 'alice', ALICE_1)]
    rendered = render.render(repos, members, keys, ADMIN_KEY)
    assert rendered.repos == ('ok',)
    assert '@all' not in rendered.conf and 'ADMIN' not in rendered.conf
    assert rendered.conf.count('repo gitolite-admin') == 1
    assert set(rendered.keydir) == {'solum-git.pub'}
    assert len(rendered.skipped) == 10, rendered.skipped


def test_every_repo_has_a_rule_so_gitolite_creates_it():
    rendered = render.render([render.Repo('lonely')], [], [], ADMIN_KEY)
    assert '@repos = lonely\n' in rendered.conf
    assert 'repo @repos\n    R       =   solum-git\n' in rendered.conf


def test_rules_name_groups_never_single_repos():
    """Per-repo rules make gitolite write a gl-conf into every repo on each compile."""
    rendered = render.render(*project(), ADMIN_KEY)
    repo_lines = [line for line in rendered.conf.splitlines() if line.startswith('repo ')]
    assert repo_lines[0] == 'repo gitolite-admin'
    assert all(line.startswith('repo @') for line in repo_lines[1:])


def test_big_groups_are_split_over_lines():
    names = ['repo-%03d' % i for i in range(45)]
    rendered = render.render([render.Repo(n) for n in names],
                             [render.Member(n, 'alice', 'RW') for n in names], [], ADMIN_KEY)
    assert rendered.conf.count('@repos = ') == 3
    assert rendered.conf.count('@rw-u-alice = ') == 3
    assert render.conf_repos(rendered.conf) == set(names)


def test_conf_repos_reads_back_what_render_wrote():
    rendered = render.render(*project(), ADMIN_KEY)
    assert render.conf_repos(rendered.conf) == set(rendered.repos)
    assert render.conf_repos('') == set()
