import subprocess

import pytest

from solum_git.common import exception
from solum_git.common import sshkey


def keygen(tmp_path, name, *args):
    path = tmp_path / name
    subprocess.run(['ssh-keygen', '-q', '-N', '', '-C', 'me@laptop', '-f', str(path)]
                   + list(args), check=True)
    return path


def fingerprint_from_ssh_keygen(pub):
    out = subprocess.run(['ssh-keygen', '-lf', str(pub)], check=True,
                         capture_output=True, text=True).stdout
    return out.split()[1]


@pytest.mark.parametrize('args,type_', [
    (['-t', 'ed25519'], 'ssh-ed25519'),
    (['-t', 'ecdsa', '-b', '256'], 'ecdsa-sha2-nistp256'),
    (['-t', 'ecdsa', '-b', '521'], 'ecdsa-sha2-nistp521'),
    (['-t', 'rsa', '-b', '2048'], 'ssh-rsa'),
])
def test_real_keys_parse_with_ssh_keygens_fingerprint(tmp_path, args, type_):
    path = keygen(tmp_path, 'k', *args)
    pub = path.with_suffix('.pub')
    key = sshkey.parse(pub.read_text())
    assert key.type == type_
    assert key.fingerprint == fingerprint_from_ssh_keygen(pub)
    assert key.comment == 'me@laptop'
    assert key.openssh.split()[:2] == pub.read_text().split()[:2]


def _refused(text, rule):
    with pytest.raises(exception.InvalidInput) as e:
        sshkey.parse(text)
    assert e.value.field == 'public_key'
    assert rule in e.value.rule, e.value.rule


def test_small_rsa_refused(tmp_path):
    pub = keygen(tmp_path, 'k', '-t', 'rsa', '-b', '1024').with_suffix('.pub')
    _refused(pub.read_text(), 'at least 2048 bits')


def test_private_key_refused(tmp_path):
    _refused(keygen(tmp_path, 'k', '-t', 'ed25519').read_text(), 'private key')


def test_options_prefix_refused(tmp_path):
    pub = keygen(tmp_path, 'k', '-t', 'ed25519').with_suffix('.pub').read_text()
    _refused('command="/bin/sh",no-pty ' + pub, 'options')
    _refused('no-pty ' + pub, 'options')


def test_two_keys_refused(tmp_path):
    a = keygen(tmp_path, 'a', '-t', 'ed25519').with_suffix('.pub').read_text()
    b = keygen(tmp_path, 'b', '-t', 'ed25519').with_suffix('.pub').read_text()
    _refused(a + b, 'one line')


def test_type_mismatch_refused(tmp_path):
    pub = keygen(tmp_path, 'k', '-t', 'ed25519').with_suffix('.pub').read_text()
    _refused(pub.replace('ssh-ed25519', 'ssh-rsa', 1), 'not a valid ssh-rsa key')


@pytest.mark.parametrize('text,rule', [
    ('', 'must not be empty'),
    ('hello world', 'must be an OpenSSH public key'),
    ('ssh-ed25519', 'no key data'),
    ('ssh-ed25519 !!!notbase64', 'not valid base64'),
    ('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==', 'not a valid'),
    ('ssh-dss AAAAB3NzaC1kc3MAAACBAP', 'must be an OpenSSH public key'),
    ('x' * 20000, 'at most'),
])
def test_garbage_refused(text, rule):
    _refused(text, rule)


def test_trailing_bytes_in_blob_refused(tmp_path):
    import base64
    pub = keygen(tmp_path, 'k', '-t', 'ed25519').with_suffix('.pub').read_text()
    type_, data = pub.split()[:2]
    padded = base64.b64encode(base64.b64decode(data) + b'junk').decode()
    with pytest.raises(exception.InvalidInput):
        sshkey.parse('%s %s' % (type_, padded))


def test_comment_with_control_chars_refused(tmp_path):
    pub = keygen(tmp_path, 'k', '-t', 'ed25519').with_suffix('.pub').read_text()
    type_, data = pub.split()[:2]
    _refused('%s %s bad\x1bcomment' % (type_, data), 'comment')
