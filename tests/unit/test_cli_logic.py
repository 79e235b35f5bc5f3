"""The CLI's pure logic: known_hosts lines, next links, faults, trigger options."""
import argparse
import os
import pwd
import subprocess

import pytest

from solum_git.cli import client
from solum_git.cli import common
from solum_git.cli import remote
from solum_git.cli import triggers
from solum_git.common import known_hosts


@pytest.mark.parametrize('url, pattern', [
    ('ssh://git@127.0.0.1:29418/app', '[127.0.0.1]:29418'),
    ('ssh://git@git.example.com/app', 'git.example.com'),
    ('ssh://git@git.example.com:22/app', 'git.example.com'),
    ('ssh://git@[::1]:2222/app', '[::1]:2222'),
])
def test_host_pattern_is_what_ssh_looks_up(url, pattern):
    assert remote.host_pattern(url) == pattern


def test_host_pattern_refuses_non_ssh_urls():
    with pytest.raises(client.ApiError):
        remote.host_pattern('https://git.example.com/app')


def test_known_hosts_lines_keep_type_and_key_under_our_name():
    keys = ['[10.0.0.5]:22 ssh-ed25519 AAAAC3 root@server',
            'ecdsa-sha2-nistp256 AAAAE2',
            'garbage', '']
    assert known_hosts.lines('127.0.0.1', 29418, keys) == [
        '[127.0.0.1]:29418 ssh-ed25519 AAAAC3',
        '[127.0.0.1]:29418 ecdsa-sha2-nistp256 AAAAE2']


def test_pin_replaces_only_plain_lines_for_exactly_that_host(tmp_path):
    path = tmp_path / 'known_hosts'
    path.write_text('\n'.join([
        '# my notes',
        '[127.0.0.1]:29418 ssh-ed25519 OLD',
        '[127.0.0.1]:29418,alias ssh-ed25519 SHARED',
        '@revoked [127.0.0.1]:29418 ssh-rsa REVOKED',
        '|1|hashed= ssh-ed25519 HASHED',
        '[127.0.0.1]:29419 ssh-ed25519 NEIGHBOUR',
        '']))
    written = remote.pin_host_keys('ssh://git@127.0.0.1:29418/app',
                                   ['ssh-ed25519 NEW'], str(path))
    assert written == 1
    assert path.read_text().splitlines() == [
        '# my notes',
        '[127.0.0.1]:29418,alias ssh-ed25519 SHARED',
        '@revoked [127.0.0.1]:29418 ssh-rsa REVOKED',
        '|1|hashed= ssh-ed25519 HASHED',
        '[127.0.0.1]:29419 ssh-ed25519 NEIGHBOUR',
        '[127.0.0.1]:29418 ssh-ed25519 NEW']


def test_pin_with_no_keys_leaves_known_hosts_alone(tmp_path):
    path = tmp_path / 'known_hosts'
    path.write_text('[127.0.0.1]:29418 ssh-ed25519 OLD\n')
    assert remote.pin_host_keys('ssh://git@127.0.0.1:29418/app', [], str(path)) == 0
    assert path.read_text() == '[127.0.0.1]:29418 ssh-ed25519 OLD\n'


def test_pin_creates_the_ssh_dir_private(tmp_path):
    path = tmp_path / 'home' / '.ssh' / 'known_hosts'
    remote.pin_host_keys('ssh://git@h:2/app', ['ssh-ed25519 K'], str(path))
    assert (path.parent.stat().st_mode & 0o777) == 0o700
    assert path.read_text() == '[h]:2 ssh-ed25519 K\n'


def test_pin_keeps_the_owner_and_mode_of_the_users_file(tmp_path):
    """sudo -E: root writes the user's known_hosts; it stays the user's."""
    assert os.geteuid() == 0, 'only root writes a file it does not own'
    ssh = tmp_path / 'home' / '.ssh'
    ssh.mkdir(parents=True)
    path = ssh / 'known_hosts'
    path.write_text('other ssh-rsa X\n')
    os.chown(str(ssh), 12345, 12346)
    os.chown(str(path), 12345, 12346)
    os.chmod(str(path), 0o644)
    remote.pin_host_keys('ssh://git@h:2/app', ['ssh-ed25519 K'], str(path))
    st = path.stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (12345, 12346, 0o644)
    assert path.read_text() == 'other ssh-rsa X\n[h]:2 ssh-ed25519 K\n'
    # a new file (and .ssh) in someone else's home is theirs too
    home = tmp_path / 'other'
    home.mkdir()
    os.chown(str(home), 12347, 12348)
    path = home / '.ssh' / 'known_hosts'
    remote.pin_host_keys('ssh://git@h:2/app', ['ssh-ed25519 K'], str(path))
    for made in (path, path.parent):
        assert (made.stat().st_uid, made.stat().st_gid) == (12347, 12348)


def _work_tree(tmp_path):
    subprocess.run(['git', 'init', '-q', str(tmp_path / 'w')], check=True)
    return str(tmp_path / 'w')


def _ssh_command(work):
    return subprocess.run(['git', '-C', work, 'config', '--get', 'core.sshCommand'],
                          capture_output=True, text=True).stdout.strip()


def test_the_work_trees_ssh_reads_the_pinned_file_first(tmp_path):
    work = _work_tree(tmp_path)
    said = remote.use_known_hosts(work, '/home/a b/.ssh/known_hosts')
    assert 'core.sshCommand' in said
    command = _ssh_command(work)
    resolved = subprocess.run(['sh', '-c', command.replace('ssh', 'ssh -G', 1) + ' h'],
                              capture_output=True, text=True).stdout
    files = [line for line in resolved.splitlines()
             if line.startswith('userknownhostsfile ')][0].split(' ', 1)[1]
    home = pwd.getpwuid(os.geteuid()).pw_dir
    assert files == '/home/a b/.ssh/known_hosts %s/.ssh/known_hosts %s/.ssh/known_hosts2' % (
        home, home)
    # a later --add-remote with another HOME replaces its own setting
    remote.use_known_hosts(work, '/home/c/.ssh/known_hosts')
    assert '"/home/c/.ssh/known_hosts"' in _ssh_command(work)


def test_a_users_own_ssh_command_is_left_alone(tmp_path):
    work = _work_tree(tmp_path)
    subprocess.run(['git', '-C', work, 'config', 'core.sshCommand', 'ssh -i ~/deploy'],
                   check=True)
    said = remote.use_known_hosts(work, '/home/a/.ssh/known_hosts')
    assert said.startswith('warning: core.sshCommand is already set (ssh -i ~/deploy)')
    assert _ssh_command(work) == 'ssh -i ~/deploy'


class _Resp:
    def __init__(self, headers=None, body=None, text='', reason='Bad'):
        self.headers = headers or {}
        self._body = body
        self.text = text
        self.reason = reason

    def json(self):
        if self._body is None:
            raise ValueError('no json')
        return self._body


def test_next_link_is_found_among_others():
    link = ('<http://a/v1/x?marker=1>; rel="prev", '
            '<http://a/v1/x?marker=9&limit=3>; rel="next"')
    resp = _Resp({'Link': link})
    assert client._next_link(resp) == 'http://a/v1/x?marker=9&limit=3'
    assert client._next_link(_Resp()) is None


def test_next_links_stay_on_the_endpoint_we_were_given():
    api = client.Client(session=None, endpoint='https://proxy.example/git/')
    assert api.base == 'https://proxy.example/git/v1'
    assert api._on_our_endpoint('http://evil.example:9778/v1/infrastructure/repos'
                                '?marker=m') == (
        'https://proxy.example/git/v1/infrastructure/repos?marker=m')


@pytest.mark.parametrize('resp, line', [
    (_Resp(body={'faultcode': 'Client', 'faultstring': 'name: bad\nmore'}), 'name: bad'),
    (_Resp(body={'error': {'code': 401, 'message': 'no token'}}), 'no token'),
    (_Resp(text='<html>\nproxy error'), '<html>'),
    (_Resp(reason='Bad Gateway'), 'Bad Gateway'),
])
def test_fault_is_one_line(resp, line):
    assert client._fault(resp) == line


def test_quoted_refuses_dot_segments_and_encodes_slashes():
    assert common.quoted('a/b c') == 'a%2Fb%20c'
    for bad in ('', '.', '..'):
        with pytest.raises(client.ApiError):
            common.quoted(bad)


def _trigger_args(**given):
    values = {'type': 'local', 'test_cmd': None, 'run_cmd': None, 'url': None,
              'secret': None, 'app_id': None, 'solum_url': None, 'actions': None,
              'create_app': None, 'languagepack': None, 'env': None, 'secret_env': None,
              'health_path': None, 'health_timeout': None}
    values.update(given)
    return argparse.Namespace(**values)


def test_trigger_config_takes_only_its_types_options():
    assert triggers.config_from(_trigger_args(test_cmd='make test')) == {
        'test_cmd': 'make test'}
    assert triggers.config_from(_trigger_args(
        type='solum', app_id='a', actions=['build'])) == {'app_id': 'a',
                                                          'actions': ['build']}
    with pytest.raises(client.ApiError, match='--secret: only for --type webhook'):
        triggers.config_from(_trigger_args(secret='s'))
    assert triggers.config_from(_trigger_args(
        run_cmd='app', env={'A': '1'}, secret_env={'B': '2'})) == {
            'run_cmd': 'app', 'env': {'A': '1'}, 'secrets': {'B': '2'}}
    with pytest.raises(client.ApiError, match='--env: only for --type local'):
        triggers.config_from(_trigger_args(type='webhook', env={'A': '1'}))
    with pytest.raises(client.ApiError, match='--languagepack: only for --type solum'):
        triggers.config_from(_trigger_args(languagepack='python'))


def test_a_solum_trigger_can_make_its_app_with_the_apps_commands():
    assert triggers.config_from(_trigger_args(
        type='solum', create_app=True, languagepack='python', test_cmd='make test',
        run_cmd='python app.py')) == {'create_app': True, 'languagepack': 'python',
                                      'test_cmd': 'make test', 'run_cmd': 'python app.py'}
    with pytest.raises(client.ApiError,
                       match='--test-cmd: only for --type local or solum'):
        triggers.config_from(_trigger_args(type='webhook', url='u', secret='s',
                                           test_cmd='make test'))
