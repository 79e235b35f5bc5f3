"""URLs and known_hosts lines: one builder each, IPv6-safe, public_url honoured."""
import types

import pytest

from solum_git.common import known_hosts
from solum_git.common import urls


def conf(host='127.0.0.1', port=9777, public_url=None, callback_url=None):
    return types.SimpleNamespace(
        api=types.SimpleNamespace(host=host, port=port, public_url=public_url),
        hook=types.SimpleNamespace(callback_url=callback_url))


@pytest.mark.parametrize('host, expected', [
    ('127.0.0.1', 'http://127.0.0.1:9777'),
    ('0.0.0.0', 'http://127.0.0.1:9777'),
    ('::', 'http://127.0.0.1:9777'),
    ('::1', 'http://[::1]:9777'),
    ('2001:db8::5', 'http://[2001:db8::5]:9777'),
    ('api.example.com', 'http://api.example.com:9777'),
])
def test_api_url_brackets_ipv6_and_reaches_a_wildcard_on_loopback(host, expected):
    assert urls.api_url(conf(host=host)) == expected


def test_public_url_with_a_path_wins_for_the_api_and_the_callback():
    c = conf(host='::1', public_url='https://git.example.com/solum-git/')
    assert urls.api_url(c) == 'https://git.example.com/solum-git'
    assert urls.callback_url(c) == \
        'https://git.example.com/solum-git/v1/hooks/post-receive'


@pytest.mark.parametrize('host, expected', [
    ('10.0.0.5', 'http://10.0.0.5:9777/v1/hooks/post-receive'),
    ('fd00::7', 'http://[fd00::7]:9777/v1/hooks/post-receive'),
])
def test_callback_url_defaults_under_the_api(host, expected):
    assert urls.callback_url(conf(host=host)) == expected


def test_an_explicit_callback_url_is_kept_as_given():
    c = conf(public_url='https://a.example', callback_url='http://10.1.1.1:80/hook')
    assert urls.callback_url(c) == 'http://10.1.1.1:80/hook'


@pytest.mark.parametrize('host, port, expected', [
    ('127.0.0.1', 29418, 'ssh://git@127.0.0.1:29418/app'),
    ('::1', 2222, 'ssh://git@[::1]:2222/app'),
    ('git.example.com', None, 'ssh://git@git.example.com:22/app'),
])
def test_git_url_always_names_the_port_and_brackets_ipv6(host, port, expected):
    assert urls.git_url('git', host, port, 'app') == expected
    assert urls.ssh_host_port(expected) == (host, port or 22)


def test_ssh_host_port_refuses_other_schemes():
    with pytest.raises(ValueError, match='not an ssh:// URL'):
        urls.ssh_host_port('https://git.example.com/app')


def test_links_join_with_single_slashes():
    assert urls.link('https://x.example/base/', '/v1/', 'repos/') == \
        'https://x.example/base/v1/repos'


@pytest.mark.parametrize('host, port, field', [
    ('127.0.0.1', 22, '127.0.0.1'), ('127.0.0.1', None, '127.0.0.1'),
    ('127.0.0.1', 2222, '[127.0.0.1]:2222'), ('::1', 2222, '[::1]:2222'),
    ('::1', 22, '::1'),
])
def test_known_hosts_host_field_is_what_ssh_looks_up(host, port, field):
    assert known_hosts.host_field(host, port) == field


def test_a_known_hosts_line_takes_type_and_key_under_our_name():
    assert known_hosts.line('::1', 2222, 'other ssh-ed25519 AAAA root@x') == \
        '[::1]:2222 ssh-ed25519 AAAA'
    with pytest.raises(ValueError, match='no public key'):
        known_hosts.line('::1', 2222, 'garbage')
