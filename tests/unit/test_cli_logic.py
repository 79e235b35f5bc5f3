"""The CLI's pure logic: known_hosts lines, next links, faults, trigger options."""
import argparse

import pytest

from solum_git.cli import client
from solum_git.cli import common
from solum_git.cli import remote
from solum_git.cli import triggers


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
    assert remote.known_hosts_lines('[127.0.0.1]:29418', keys) == [
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
              'secret': None, 'app_id': None, 'solum_url': None, 'actions': None}
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
