"""What the fake cloud boots: a "VM" that runs user_data, or a podman container.

NamespaceVm: the user_data runs as root (as cloud-init would run it) in a new
PID + mount namespace where /etc, /var, /usr/local, /home, /root, /srv and /opt
are copy-on-write overlays of the host's and /run is empty. It installs,
creates users and starts sshd like on a fresh server, and leaves the host
untouched; powering off kills the namespace's PID 1, which ends every process
in it. It shares the host's network, so its sshd is on loopback.

PodmanContainer: the image runs with podman (runc, host network, lowered
ulimits: see FACTS.md), with the template's environment.
"""
import os
import shutil
import subprocess
import textwrap

OVERLAYS = ('etc', 'var', 'usr/local', 'home', 'root', 'srv', 'opt')

INIT = textwrap.dedent('''\
    set -eu
    vm=$1
    for d in {overlays}; do
        mkdir -p "$vm/upper/$d" "$vm/work/$d"
        mount -t overlay overlay \\
            -o "lowerdir=/$d,upperdir=$vm/upper/$d,workdir=$vm/work/$d" "/$d"
    done
    mount -t tmpfs -o mode=755 tmpfs /run
    echo "fake-cloud: booting"
    set +e
    /bin/bash "$vm/user-data"
    echo "fake-cloud: user_data exited $?"
    # PID 1 of the namespace: stay up (and reap) until powered off
    while :; do wait; sleep 1; done
''').format(overlays=' '.join(OVERLAYS))


class NamespaceVm:
    def __init__(self, workdir, user_data):
        self.dir = workdir
        os.makedirs(self.dir, exist_ok=True)
        with open(os.path.join(self.dir, 'user-data'), 'w') as f:
            f.write(user_data)
        self.console_path = os.path.join(self.dir, 'console.log')
        self.proc = None

    def boot(self):
        console = open(self.console_path, 'ab')
        self.proc = subprocess.Popen(
            ['unshare', '--pid', '--fork', '--kill-child', '--mount-proc', '--mount',
             '--propagation', 'private', '--', '/bin/bash', '-c', INIT, 'init', self.dir],
            stdin=subprocess.DEVNULL, stdout=console, stderr=subprocess.STDOUT)
        console.close()

    def console(self, lines=None):
        try:
            with open(self.console_path, errors='replace') as f:
                text = f.read()
        except FileNotFoundError:
            return ''
        return '\n'.join(text.splitlines()[-lines:]) if lines else text

    def power_off(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()  # --kill-child: the namespace's PID 1 and all in it go too
            self.proc.wait(30)
        self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)


PODMAN = ['podman', '--storage-driver', 'vfs']
PODMAN_RUN = ['--runtime', 'runc', '--network', 'host',
              '--ulimit', 'nofile=20000:20000', '--ulimit', 'nproc=32768:32768']


class PodmanContainer:
    def __init__(self, name, image, environment, podman=PODMAN):
        self.name = name
        self.image = image
        self.environment = environment
        self.podman = list(podman)

    def boot(self):
        env = []
        for key, value in sorted(self.environment.items()):
            env += ['-e', '%s=%s' % (key, value)]
        subprocess.run(self.podman + ['rm', '-f', '--ignore', self.name],
                       capture_output=True)
        subprocess.run(self.podman + ['run', '-d', '--name', self.name] + PODMAN_RUN + env
                       + [self.image], check=True, capture_output=True, text=True)

    def console(self, lines=None):
        args = ['logs'] + (['--tail', str(lines)] if lines else []) + [self.name]
        proc = subprocess.run(self.podman + args, capture_output=True, text=True)
        return proc.stdout + proc.stderr

    def power_off(self):
        subprocess.run(self.podman + ['rm', '-f', '-t', '2', '--ignore', self.name],
                       capture_output=True)
