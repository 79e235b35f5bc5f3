"""The one definition of a public address (webhook URLs, at creation and delivery)."""
import ipaddress

import pytest

from solum_git.common import addresses

NOT_PUBLIC = [
    'http://127.0.0.1:8080/hook', 'http://localhost/hook', 'http://10.1.2.3/',
    'http://169.254.169.254/latest/meta-data/', 'http://[::1]/', 'http://192.168.0.1/',
    'http://172.16.5.4/', 'http://0.0.0.0/', 'http://[::]/', 'http://100.64.0.1/',
    'http://224.0.0.1/', 'http://[ff02::1]/', 'http://[fe80::1]/', 'http://[fd00::1]/',
    'http://[fec0::1]/', 'http://[::ffff:127.0.0.1]/', 'http://[::ffff:10.0.0.1]/',
    'http://[::ffff:169.254.169.254]/', 'http://[::7f00:1]/', 'http://[64:ff9b::a00:1]/',
    'http://[2002:7f00:1::]/', 'http://2130706433/', 'http://0177.0.0.1/',
    'http://0x7f.1/', 'http://127.1/', 'http://017700000001/', 'http://192.0.0.8/',
    'http://240.0.0.1/', 'http://255.255.255.255/', 'http://[2001:db8::1]/',
    'http://name.that.does.not.resolve.invalid/',
]


@pytest.mark.parametrize('url', NOT_PUBLIC)
def test_urls_into_non_public_addresses_are_refused_with_the_rule(url):
    with pytest.raises(addresses.Refused) as e:
        addresses.check_url(url, allow_private=False)
    assert str(e.value).startswith(addresses.PUBLIC_RULE)


@pytest.mark.parametrize('url', ['ftp://example.com/', 'http:///nohost', 'file:///etc/x',
                                 'gopher://1.2.3.4/', 'http://x:99999/',
                                 'http://[::1/', 'http://' + 'a' * 300 + '/'])
def test_urls_that_are_not_http_are_refused(url):
    with pytest.raises(addresses.Refused):
        addresses.check_url(url, allow_private=False)


@pytest.mark.parametrize('url', ['https://93.184.216.34/hook', 'http://8.8.8.8:8080/',
                                 'https://[2606:4700::1111]/x', 'http://[2002:808:808::]/'])
def test_public_addresses_pass(url):
    addresses.check_url(url, allow_private=False)


def test_the_operator_may_allow_private_addresses():
    for url in ('http://127.0.0.1:8080/hook', 'http://10.0.0.1/', 'http://localhost/'):
        addresses.check_url(url, allow_private=True)


def test_a_name_is_judged_by_what_it_resolves_to():
    with pytest.raises(addresses.Refused) as e:
        addresses.check_url('http://localhost:9/', allow_private=False)
    # the kind, not the address: the API is no oracle of the operator's DNS
    assert 'localhost resolves to an address that is loopback' in str(e.value)
    assert '127.0.0.1' not in str(e.value)
    with pytest.raises(addresses.Refused, match='2130706433 resolves to an address that'):
        addresses.check_url('http://2130706433/', allow_private=False)


@pytest.mark.parametrize('address,why', [
    ('::ffff:127.0.0.1', 'loopback, as 127.0.0.1'), ('64:ff9b::a00:1', 'private, as 10.0.0.1'),
    ('224.0.0.1', 'multicast'), ('0.0.0.0', 'unspecified'), ('fe80::1', 'link-local'),
    ('8.8.8.8', None), ('2606:4700::1111', None),
])
def test_kind_says_why(address, why):
    assert addresses.kind(ipaddress.ip_address(address)) == why


def _solum_conf(tmp_path, strategy, url='https://solum.example.org:9777'):
    from tests import helpers
    return helpers.make_conf(tmp_path, 'sqlite://',
                             solum={'auth_strategy': strategy, 'url': url})


def test_a_solum_url_elsewhere_would_get_the_services_token_and_is_refused(tmp_path):
    conf = _solum_conf(tmp_path, 'keystone')
    for url in ('https://attacker.example.com/', 'http://solum.example.org:9777/',
                'https://solum.example.org:9778/', 'https://solum.example.org.evil/',
                'https://x@attacker.example.com/'):
        with pytest.raises(addresses.Refused, match='host of \\[solum\\] url'):
            addresses.check_solum_url(url, conf)
    for url in ('https://solum.example.org:9777', 'https://SOLUM.example.org:9777/v1',
                None):
        addresses.check_solum_url(url, conf)


def test_without_keystone_a_solum_url_may_be_anywhere(tmp_path):
    conf = _solum_conf(tmp_path, 'noauth')
    addresses.check_solum_url('http://127.0.0.1:9/', conf)


@pytest.mark.parametrize('host, wildcard', [
    ('0.0.0.0', True), ('::', True), ('0:0::0', True), ('127.0.0.1', False),
    ('::1', False), ('localhost', False), ('', False), ('api.example.com', False)])
def test_an_unspecified_listen_address_is_told_from_one_host(host, wildcard):
    assert addresses.is_unspecified(host) is wildcard
