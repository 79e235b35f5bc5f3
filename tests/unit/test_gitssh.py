"""One ssh client to git servers: the same options for admin work, fetches and flushes."""
import os

from solum_git.common import gitssh
from solum_git.gitolite import admin

KEY = admin.generate_key()
HOST_KEY = '[127.0.0.1]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFake'


def test_the_admin_client_and_a_run_fetch_run_ssh_with_the_same_options(tmp_path):
    client = admin.AdminClient(str(tmp_path / 'w'), '::1', 2222, 'git', KEY, [HOST_KEY])
    ssh = gitssh.Ssh('::1', 2222, 'git', KEY, [HOST_KEY])
    try:
        assert client.ssh_argv(mux=False) == ['ssh'] + gitssh.options(
            client.key_path, client.known_hosts)
        assert ssh.argv() == ['ssh'] + gitssh.options(ssh.key, ssh.known_hosts) + [
            '-p', '2222']
        for argv in (client.ssh_argv(mux=False), ssh.argv()):
            # no user or system config, no agent: only the key and the pinned hosts
            assert argv[1:3] == ['-F', '/dev/null']
            assert 'IdentityAgent=none' in argv and 'StrictHostKeyChecking=yes' in argv
        with open(ssh.known_hosts) as f:
            assert f.read() == '[::1]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFake\n'
        assert oct(os.stat(ssh.key).st_mode & 0o777) == '0o600'
        assert ssh.repo_url('app') == 'ssh://git@[::1]:2222/app'
    finally:
        ssh.close()
    assert not os.path.exists(ssh.dir)


class _Stack:
    ssh_host, ssh_port, ssh_user = '127.0.0.1', 2222, 'git'
    admin_private_key, ssh_host_keys = KEY, HOST_KEY


def test_a_stack_without_an_address_or_key_has_no_ssh_yet():
    stack = _Stack()
    stack.ssh_host_keys = None
    assert gitssh.Ssh.for_stack(stack) is None
    ssh = gitssh.Ssh.for_stack(_Stack())
    try:
        assert ssh.command('solum-flush')[-2:] == ['git@127.0.0.1', 'solum-flush']
    finally:
        ssh.close()
