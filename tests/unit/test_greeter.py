"""The greeter of a git server still starting: what real ssh and git print to it."""
import socket
import subprocess

import pytest

from solum_git.provisioners import greeter
from tests import helpers

SSH = ['ssh', '-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'IdentityAgent=none',
       '-o', 'UserKnownHostsFile=/dev/null', '-o', 'GlobalKnownHostsFile=/dev/null',
       '-o', 'StrictHostKeyChecking=yes']


@pytest.fixture
def greeting():
    for _attempt in range(5):
        g = greeter.Greeter('127.0.0.1', helpers.free_port())
        if g.open():
            break
    else:
        raise AssertionError('no free port')
    try:
        yield g
    finally:
        g.close()


def test_ssh_is_told_the_server_is_starting(greeting):
    done = subprocess.run(SSH + ['-p', str(greeting.port), 'git@127.0.0.1', 'info'],
                          capture_output=True, text=True, timeout=30,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 255
    assert ('Received disconnect from 127.0.0.1 port %d:7: server is starting, retry '
            'in a few seconds' % greeting.port) in done.stderr
    assert 'Connection refused' not in done.stderr


def test_git_push_is_told_the_server_is_starting(greeting, tmp_path):
    work = tmp_path / 'work'
    subprocess.run(['git', 'init', '-q', str(work)], check=True)
    subprocess.run(['git', '-C', str(work), '-c', 'user.name=a', '-c', 'user.email=a@b',
                    'commit', '-q', '--allow-empty', '-m', 'one'], check=True)
    done = subprocess.run(
        ['git', '-C', str(work), 'push', 'ssh://git@127.0.0.1:%d/web' % greeting.port,
         'HEAD:refs/heads/main'], capture_output=True, text=True, timeout=30,
        env={'PATH': '/usr/bin:/bin', 'GIT_SSH_COMMAND': ' '.join(SSH), 'HOME': str(tmp_path)})
    assert done.returncode != 0
    assert 'server is starting, retry in a few seconds' in done.stderr


def test_each_of_many_clients_is_told(greeting):
    answers = []
    for _ in range(20):
        with socket.create_connection(('127.0.0.1', greeting.port), timeout=5) as s:
            s.sendall(b'SSH-2.0-test\r\n')
            data = b''
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        answers.append(data)
    assert set(answers) == {greeting.answer}
    assert greeting.answer.startswith(b'SSH-2.0-')


def test_close_hands_the_port_over(greeting):
    greeting.close()
    with socket.socket() as sshd:  # what the real sshd does next
        sshd.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sshd.bind(('127.0.0.1', greeting.port))
        sshd.listen()
        # a second greeter for a port in use stays out of the way
        assert greeter.Greeter('127.0.0.1', greeting.port).open() is False


def test_the_packet_is_an_ssh_binary_packet():
    packet = greeter.disconnect_packet('why')
    length, padding = int.from_bytes(packet[:4], 'big'), packet[4]
    assert len(packet) == 4 + length and len(packet) % 8 == 0 and padding >= 4
    payload = packet[5:4 + length - padding]
    assert payload == b'\x01' + (7).to_bytes(4, 'big') + b'\x00\x00\x00\x03why' + bytes(4)
