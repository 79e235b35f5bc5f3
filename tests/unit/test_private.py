"""The service's own files are made private; nothing else is touched."""
import os
import stat
import types

from solum_git.common import private


def _conf(tmp_path, config_files):
    return types.SimpleNamespace(
        state_path=str(tmp_path / 'state'), config_file=config_files, config_dir=[],
        database=types.SimpleNamespace(connection='sqlite://'))


def _mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_config_files_lose_group_and_other_bits_but_a_device_or_fifo_keeps_its_modes(
        tmp_path):
    umask = os.umask(0o022)
    try:
        conf_file = tmp_path / 'solum-git.conf'
        conf_file.write_text('[DEFAULT]\n')
        conf_file.chmod(0o644)
        fifo = tmp_path / 'fifo'
        os.mkfifo(fifo, 0o666)
        os.chmod(fifo, 0o666)
        # what a test or an operator passes as "no config": a device root owns
        private.protect(_conf(tmp_path, [str(conf_file), str(fifo), os.devnull]))
    finally:
        os.umask(umask)
    assert _mode(conf_file) == 0o600
    assert _mode(fifo) == 0o666
    assert _mode(os.devnull) == 0o666
    assert _mode(tmp_path / 'state') in (0o700, 0o711)


def test_app_states_an_older_version_left_readable_become_the_services_alone(tmp_path):
    apps = tmp_path / 'state' / 'apps'
    apps.mkdir(parents=True)
    state = apps / 'trigger.json'
    state.write_text('{}')
    apps.chmod(0o755)
    state.chmod(0o644)
    private.protect(_conf(tmp_path, []))
    assert (_mode(apps), _mode(state)) == (0o700, 0o600)
