"""Generated samples in etc/ must match the code; option names are a contract."""
import os
import pathlib
import subprocess
import sys

from solum_git import conf as conf_pkg
from solum_git.conf import default

TOP = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent


def _generate(tool, config, out):
    subprocess.run([str(BIN / tool), '--config-file', str(TOP / config),
                    '--output-file', str(out)], check=True, cwd=TOP)
    return out.read_text()


def test_config_sample_is_current(tmp_path):
    fresh = _generate('oslo-config-generator',
                      'etc/solum-git/solum-git-config-generator.conf', tmp_path / 's')
    committed = (TOP / 'etc/solum-git/solum-git.conf.sample').read_text()
    assert fresh == committed, 'run: tox -e genconfig'


def test_policy_sample_is_current(tmp_path):
    fresh = _generate('oslopolicy-sample-generator',
                      'etc/solum-git/solum-git-policy-generator.conf', tmp_path / 'p')
    committed = (TOP / 'etc/solum-git/policy.yaml.sample').read_text()
    assert fresh == committed, 'run: tox -e genpolicy'


def test_design_option_names_exist():
    conf = conf_pkg.new()
    conf([], project='solum-git', default_config_files=[])
    assert conf.api.host == '127.0.0.1'
    assert conf.api.port == 9778
    assert conf.api.auth_strategy == 'noauth'
    assert conf.engine.in_process is True
    assert conf.provisioner.driver == 'local'
    assert (conf.local.ssh_port_min, conf.local.ssh_port_max) == (29418, 29517)
    assert conf.hook.callback_url is None
    assert conf.database.connection == 'sqlite:///%s/solum-git.sqlite' % conf.state_path


def test_state_path_is_per_user_for_a_non_root_user(monkeypatch, tmp_path):
    monkeypatch.setattr(os, 'geteuid', lambda: 1000)
    monkeypatch.setenv('XDG_STATE_HOME', str(tmp_path))
    assert default._default_state_path() == str(tmp_path / 'solum-git')
    monkeypatch.delenv('XDG_STATE_HOME')
    monkeypatch.setenv('HOME', '/home/dev')
    assert default._default_state_path() == '/home/dev/.local/state/solum-git'
    monkeypatch.setattr(os, 'geteuid', lambda: 0)
    assert default._default_state_path() == '/var/lib/solum-git'
