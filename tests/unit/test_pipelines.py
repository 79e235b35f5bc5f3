"""Pipeline pieces without a server: run log limits, host key pinning."""
import re
import threading

import pytest

from solum_git.common import known_hosts
from solum_git.common import states
from solum_git.common import urls
from solum_git.pipelines import base
from solum_git.pipelines import solum as solum_pipeline
from solum_git.pipelines import webhook
from solum_git.services import solum_triggers


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
    assert known_hosts.lines('127.0.0.1', 29418, lines) == [
        '[127.0.0.1]:29418 ssh-ed25519 AAAAC3Nza',
        '[127.0.0.1]:29418 ecdsa-sha2-nistp256 AAAAE2']
    assert known_hosts.lines('git.example.com', 22, lines[:1]) == [
        'git.example.com ssh-ed25519 AAAAC3Nza']


def test_a_result_is_one_of_the_final_states_or_retry():
    with pytest.raises(AssertionError):
        base.Result('RUNNING')
    assert base.Result(states.RunStatus.RETRY, 'x').status == 'RETRY'


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


@pytest.mark.parametrize('url', ['http://127.0.0.1:9/hook', 'http://2130706433/',
                                 'http://[::ffff:10.0.0.1]/', 'http://localhost/'])
def test_a_delivery_to_a_non_public_address_fails_without_a_request(tmp_path, url):
    from tests import helpers
    conf = helpers.make_conf(tmp_path, 'sqlite://')
    log = base.RunLog(str(tmp_path / 'log'), 4096)
    spec = base.RunSpec('run-1', 'webhook', 'refs/heads/main', '0' * 40, '1' * 40, 1,
                        {}, {}, {'config': {'url': url, 'secret': 's'}}, None,
                        str(tmp_path), log, threading.Event())
    result = webhook.WebhookPipeline(conf).execute(spec)
    assert result.status == states.RunStatus.FAILED
    assert result.reason.startswith('config.url: must point at a public address')
    assert result.delivery['status_code'] is None


def test_a_solum_run_to_another_host_fails_before_the_token_is_sent(tmp_path):
    from solum_git.pipelines import solum
    from tests import helpers
    conf = helpers.make_conf(tmp_path, 'sqlite://', solum={'auth_strategy': 'keystone'})
    log = base.RunLog(str(tmp_path / 'log'), 4096)
    spec = base.RunSpec('run-1', 'solum', 'refs/heads/main', '0' * 40, '1' * 40, 1,
                        {}, {}, {'config': {'app_id': 'a1',
                                            'solum_url': 'https://attacker.example.com'}},
                        None, str(tmp_path), log, threading.Event())
    pipeline = solum.SolumPipeline(conf)
    result = pipeline.execute(spec)
    assert result.status == states.RunStatus.FAILED
    assert result.reason.startswith('config.solum_url: must be on the host of [solum] url')
    assert pipeline._fallback is None     # no Keystone session was even made


def test_a_url_in_a_solum_runs_log_has_its_token_masked():
    assert solum_pipeline.redacted('http://deploy-1:s3cret@git.example.com:8080/pin/'
                                   + 'a' * 40 + '/web.git') == (
        'http://deploy-1:***@git.example.com:8080/pin/' + 'a' * 40 + '/web.git')
    assert solum_pipeline.redacted('http://git.example.com/web.git') == \
        'http://git.example.com/web.git'


def test_the_pinned_url_passes_solums_own_repository_rule():
    url = urls.pin_url(urls.clone_url('http://127.0.0.1:9000/web.git',
                                      'deploy-abc', 's/e:c@r'), 'b' * 40)
    assert solum_pipeline.SOLUM_REPOSITORY.match(url)
    assert not solum_pipeline.SOLUM_REPOSITORY.match('ssh://git@127.0.0.1:39418/web.git')


def test_an_app_made_by_a_trigger_gets_a_name_solum_takes():
    rule = re.compile(r'^[a-z][a-z0-9-_]{0,99}$')
    for repo, name in (('Web.App', 'web-app'), ('9lives', 'git-9lives'), ('a' * 100, None)):
        made = solum_triggers._app_name(repo)
        assert rule.match(made), made
        if name:
            assert made == name
