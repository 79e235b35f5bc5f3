"""Pipeline pieces without a server: URL guard, run log limits, host key pinning."""
import threading

import pytest

from solum_git.pipelines import base
from solum_git.pipelines import source
from solum_git.pipelines import webhook


@pytest.mark.parametrize('url', [
    'http://127.0.0.1:8080/hook', 'http://localhost/hook', 'http://10.1.2.3/',
    'http://169.254.169.254/latest/meta-data/', 'http://[::1]/', 'http://192.168.0.1/',
    'http://0.0.0.0/', 'ftp://example.com/', 'http:///nohost'])
def test_webhooks_into_private_networks_are_refused(url):
    with pytest.raises(webhook.Refused):
        webhook.check_target(url, allow_private=False)


def test_public_addresses_pass_and_the_operator_may_allow_private_ones():
    webhook.check_target('https://93.184.216.34/hook', allow_private=False)
    webhook.check_target('http://127.0.0.1:8080/hook', allow_private=True)


def test_the_run_log_is_cut_at_its_limit(tmp_path):
    log = base.RunLog(str(tmp_path / 'runs' / 'x' / 'log'), 1024)
    threads = [threading.Thread(target=lambda: [log.write('y' * 100 + '\n')
                                                for _ in range(20)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    text = log.text()
    assert text.endswith('[solum-git: log cut at 1024 bytes]\n')
    assert len(text.encode()) < 1024 + 64
    log.write('after the cut')
    assert log.text() == text


def test_host_keys_are_pinned_to_the_servers_address_and_port():
    lines = ['127.0.0.1 ssh-ed25519 AAAAC3Nza key', 'garbage', '',
             '[other]:22 ecdsa-sha2-nistp256 AAAAE2 comment here']
    assert source.known_hosts('127.0.0.1', 29418, lines) == [
        '[127.0.0.1]:29418 ssh-ed25519 AAAAC3Nza',
        '[127.0.0.1]:29418 ecdsa-sha2-nistp256 AAAAE2']
    assert source.known_hosts('git.example.com', 22, lines[:1]) == [
        'git.example.com ssh-ed25519 AAAAC3Nza']


def test_a_result_is_one_of_the_final_states_or_retry():
    with pytest.raises(AssertionError):
        base.Result('RUNNING')
    assert base.Result(base.RETRY, 'x').status == 'RETRY'


def test_git_log_becomes_github_commits_with_bounded_file_lists():
    fields = '\x1f'.join(['c' * 40, 't' * 40, 'Ann', 'a@x', 'Cid', 'c@x',
                          '2024-01-01T00:00:00+00:00', 'subject\n\nbody'])
    files = '\n'.join(['A\tnew%d' % i for i in range(400)]
                      + ['D\tgone', 'M\tkept', 'R100\told\trenamed'])
    commits = webhook._parse_log('\x1e' + fields + '\x1d\n' + files + '\n')
    assert len(commits) == 1
    commit = commits[0]
    assert commit['id'] == 'c' * 40 and commit['message'] == 'subject\n\nbody'
    assert commit['author'] == {'name': 'Ann', 'email': 'a@x'}
    assert len(commit['added']) == webhook.MAX_FILES
    assert commit['removed'] == ['gone'] and commit['modified'] == ['kept', 'renamed']
