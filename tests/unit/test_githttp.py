"""Git over HTTP: the token file solum-git renders and how the front reads it,
the front's URL rules, the URLs solum-git hands out, the HTTPS certificates."""
import base64
import hashlib
import time
import types

import pytest

from solum_git.common import tokens
from solum_git.common import urls
from solum_git.gitolite import render
from solum_git.httpfront import main as front
from solum_git.provisioners import tlscerts

ADMIN_KEY = ('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBkF4jLBuPMmnTfvJ5Nlq8s2hbMHgoHv'
             'ZsrZwcNv4y3X')
HASH = hashlib.sha256(b'secret').hexdigest()
UUID = '0c6c2f1d-f882-4a3e-9c7f-1234567890ab'


def _render(**kwargs):
    return render.render([render.Repo('web'), render.Repo('docs')],
                         [render.Member('web', 'alice', 'RW+')], [], ADMIN_KEY, **kwargs)


def test_deploy_token_is_a_gitolite_user_with_its_permission_on_its_repo_only():
    out = _render(deploy_tokens=[render.DeployToken(UUID, 'web', 'R', 'deploy-0c6c2f1df882',
                                                    HASH, 0)])
    assert '    R       =   dt-%s' % UUID in out.conf
    assert '@r-dt-%s = web' % UUID in out.conf
    assert out.files[render.TOKENS_FILE] == '%s deploy-0c6c2f1df882 dt-%s 0 web\n' % (
        HASH, UUID)


def test_credentials_of_a_repo_not_served_here_are_left_out():
    out = _render(deploy_tokens=[render.DeployToken(UUID, 'gone', 'RW', 'deploy-x', HASH,
                                                    0)],
                  deploy_keys=[render.DeployKey(UUID, 'gone', 'R', ADMIN_KEY)])
    assert 'dt-' not in out.conf and 'dk-' not in out.conf
    assert out.files[render.TOKENS_FILE] == ''
    assert not [p for p in out.keydir if p.startswith('deploy-keys/')]


def test_deploy_key_goes_to_keydir_under_its_own_gitolite_user():
    out = _render(deploy_keys=[render.DeployKey(UUID, 'docs', 'RW', ADMIN_KEY + ' ci')])
    assert out.keydir['deploy-keys/%s/dk-%s.pub' % (UUID, UUID)] == ADMIN_KEY + '\n'
    assert '    RW      =   dk-%s' % UUID in out.conf


def test_personal_tokens_only_of_users_with_access_here_and_scope_star():
    out = _render(tokens=[render.Token(UUID, 'alice', HASH, 123),
                          render.Token(UUID, 'bob', HASH.replace('a', 'b'), 0)])
    assert out.files[render.TOKENS_FILE] == '%s alice u-alice 123 *\n' % HASH


def test_unsafe_token_fields_are_skipped_not_rendered():
    out = _render(deploy_tokens=[render.DeployToken(UUID, 'web', 'R', 'bad name', HASH, 0),
                                 render.DeployToken(UUID, 'web', 'RW+', 'deploy-x', HASH,
                                                    0)])
    assert out.files[render.TOKENS_FILE] == ''
    assert len(out.skipped) == 2


def _header(user, secret):
    return 'Basic ' + base64.b64encode(('%s:%s' % (user, secret)).encode()).decode()


@pytest.fixture
def token_file(tmp_path):
    path = tmp_path / 'tokens'
    path.write_text('# comment\n%s deploy-1 dt-1 0 web\n%s alice u-alice %d *\n'
                    'garbage line\n'
                    % (tokens.hash_secret('s1'), tokens.hash_secret('s2'),
                       int(time.time()) + 60))
    return path


def test_front_maps_a_token_to_its_gitolite_user_and_scope(token_file):
    t = front.Tokens(str(token_file))
    assert t.check(_header('deploy-1', 's1')) == ('dt-1', 'web')
    assert t.check(_header('alice', 's2')) == ('u-alice', '*')


def test_front_refuses_wrong_secret_other_user_name_expired_and_garbage(token_file):
    t = front.Tokens(str(token_file))
    assert t.check(_header('deploy-1', 's2')) is None
    assert t.check(_header('alice', 's1')) is None
    assert t.check(_header('alice', 's2'), now=time.time() + 120) is None
    for header in (None, '', 'Bearer x', 'Basic !!!', _header('alice', '')):
        assert t.check(header) is None


def test_front_rereads_the_token_file_when_it_changes(token_file):
    t = front.Tokens(str(token_file))
    assert t.check(_header('deploy-1', 's1'))
    token_file.write_text('')
    assert t.check(_header('deploy-1', 's1')) is None


@pytest.mark.parametrize('path,query,method,want', [
    ('/web.git/info/refs', 'service=git-upload-pack', 'GET',
     (None, 'web', 'git-upload-pack', False)),
    ('/web.git/git-receive-pack', '', 'POST', (None, 'web', 'git-receive-pack', True)),
    ('/pin/%s/web.git/git-upload-pack' % ('a' * 40), '', 'POST',
     ('a' * 40, 'web', 'git-upload-pack', False)),
])
def test_front_takes_smart_http_requests(path, query, method, want):
    assert front.parse_request(path, query, method) == want


@pytest.mark.parametrize('path,query,method', [
    ('/web.git/info/refs', '', 'GET'),                       # dumb HTTP
    ('/web.git/objects/info/packs', '', 'GET'),
    ('/web.git/info/refs', 'service=git-upload-archive', 'GET'),
    ('/web.git/git-upload-pack', '', 'GET'),
    ('/gitolite-admin.git/info/refs', 'service=git-upload-pack', 'GET'),
    ('/a..b.git/info/refs', 'service=git-upload-pack', 'GET'),
    ('/../web.git/info/refs', 'service=git-upload-pack', 'GET'),
    ('/pin/abc/web.git/info/refs', 'service=git-upload-pack', 'GET'),
    ('/info', '', 'GET'),
])
def test_front_refuses_everything_else(path, query, method):
    assert front.parse_request(path, query, method) is None


def _stack(**kw):
    values = dict(uuid='s-1', ssh_host='127.0.0.1', http_port=29618, provisioner='local')
    values.update(kw)
    return types.SimpleNamespace(**values)


def _conf(public_url=None):
    return types.SimpleNamespace(git_http=types.SimpleNamespace(public_url=public_url))


def test_http_url_per_provisioner_and_behind_a_proxy():
    assert urls.http_url(_conf(), _stack(), 'web') == 'http://127.0.0.1:29618/web.git'
    heat = _stack(provisioner='heat', ssh_host='203.0.113.5', http_port=443)
    assert urls.http_url(_conf(), heat, 'web') == 'https://203.0.113.5/web.git'
    v6 = _stack(ssh_host='::1')
    assert urls.http_url(_conf(), v6, 'web') == 'http://[::1]:29618/web.git'
    assert urls.http_url(_conf('https://git.example.com/{stack}/'), _stack(), 'web') \
        == 'https://git.example.com/s-1/web.git'
    assert urls.http_url(_conf(), _stack(http_port=None), 'web') is None


def test_clone_url_and_pin_url():
    url = urls.clone_url('http://127.0.0.1:1/web.git', 'deploy-1', 'a/b:c')
    assert url == 'http://deploy-1:a%2Fb%3Ac@127.0.0.1:1/web.git'
    sha = '0123456789abcdef0123456789abcdef01234567'
    assert urls.pin_url(url, sha) == \
        'http://deploy-1:a%2Fb%3Ac@127.0.0.1:1/pin/' + sha + '/web.git'
    with pytest.raises(ValueError):
        urls.pin_url(url, 'master')
    with pytest.raises(ValueError):
        urls.pin_url('http://h/web', sha)


def test_a_new_server_certificate_when_the_address_changes():
    ca, ca_key = tlscerts.make_ca('s-1')
    cert, _key = tlscerts.make_server(ca, ca_key, '203.0.113.5')
    assert not tlscerts.needs_new(cert, '203.0.113.5', ca)
    assert tlscerts.needs_new(cert, '203.0.113.6', ca)
    assert tlscerts.needs_new(None, '203.0.113.5', ca)
    other_ca, _ = tlscerts.make_ca('s-2')
    assert tlscerts.needs_new(cert, '203.0.113.5', other_ca)


def test_deploy_username_and_expiry_rules():
    assert tokens.deploy_username(UUID) == 'deploy-0c6c2f1df882'
    import datetime
    from solum_git.common import exception
    with pytest.raises(exception.InvalidInput):
        tokens.expires_at(datetime.datetime(2001, 1, 1))
    with pytest.raises(exception.InvalidInput):
        tokens.expires_at('tomorrow')
    assert tokens.expires_at(None) is None


def _git(*args, cwd=None):
    import subprocess
    env = {'PATH': '/usr/bin:/bin', 'HOME': '/nonexistent', 'GIT_CONFIG_NOSYSTEM': '1',
           'GIT_AUTHOR_NAME': 't', 'GIT_AUTHOR_EMAIL': 't@t', 'GIT_COMMITTER_NAME': 't',
           'GIT_COMMITTER_EMAIL': 't@t'}
    return subprocess.run(['git'] + list(args), cwd=cwd, env=env, check=True,
                          capture_output=True, text=True).stdout.strip()


def test_pins_are_made_for_reachable_commits_only_and_old_ones_pruned(tmp_path):
    import os
    home = tmp_path / 'home'
    bare = home / 'repositories' / 'web.git'
    _git('init', '-q', '--bare', '-b', 'main', str(bare))
    work = tmp_path / 'work'
    _git('init', '-q', '-b', 'main', str(work))
    _git('commit', '-q', '--allow-empty', '-m', 'one', cwd=work)
    one = _git('rev-parse', 'HEAD', cwd=work)
    _git('commit', '-q', '--allow-empty', '-m', 'two', cwd=work)
    two = _git('rev-parse', 'HEAD', cwd=work)
    _git('push', '-q', str(bare), 'main', cwd=work)
    _git('commit', '-q', '--allow-empty', '-m', 'unpushed', cwd=work)
    unpushed = _git('rev-parse', 'HEAD', cwd=work)
    f = front.Front(str(home), pin_max_age=60)
    assert f.ensure_pin('web', one)
    assert not f.ensure_pin('web', unpushed)      # not in the repo
    assert not f.ensure_pin('web', '1' * 40)
    refs = _git('--git-dir', str(bare), 'for-each-ref', '--format=%(refname) %(objectname)')
    assert 'refs/namespaces/pin-%s/refs/heads/master %s' % (one, one) in refs
    # a day later (here: a minute) another pin removes the old one
    marker = bare / front.PIN_MARKERS / one
    old = time.time() - 120
    os.utime(marker, (old, old))
    assert f.ensure_pin('web', two)
    refs = _git('--git-dir', str(bare), 'for-each-ref', '--format=%(refname)')
    assert 'pin-%s' % one not in refs and 'pin-%s' % two in refs
    assert not marker.exists()
