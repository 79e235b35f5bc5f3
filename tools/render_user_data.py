#!/usr/bin/env python3
"""Write the user_data Heat would send for a VM git server, for a NoCloud seed.

Uses the heat provisioner's own template and parameters (and the test cloud's
HOT evaluator), so the QCOW2 boot in tools/build-images.sh runs exactly what a
Heat stack would. Writes OUT/user-data, OUT/admin (private key),
OUT/known_hosts (the pinned host key for [127.0.0.1]:PORT).
"""
import os
import sys
import types
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

from solum_git import conf as conf_pkg  # noqa: E402
from solum_git.provisioners import heat  # noqa: E402
from solum_git.provisioners import hostkeys  # noqa: E402
from tests.heatserver import hot  # noqa: E402


def main(out, forwarded_port):
    conf = conf_pkg.new()
    conf([], project='solum-git', default_config_files=[])
    conf.set_override('network', 'private', group='heat')
    conf.set_override('image', 'solum-git-gitolite', group='heat')
    admin_private, _ = hostkeys.generate()
    host_private, host_public = hostkeys.generate()
    row = types.SimpleNamespace(uuid=str(uuid.uuid4()), project_id='image-test',
                                hook_secret=os.urandom(32).hex(),
                                admin_private_key=admin_private)
    prov = heat.HeatProvisioner(conf)
    template, files = prov.template()
    params = prov.parameters(row, {'callback_url': 'http://127.0.0.1:9/v1/hooks/post-receive'},
                             host_private, host_public)
    view = hot.Stack(template, files, params, lambda *a: None)
    user_data = view.properties('server')['user_data']
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, 'user-data'), 'w') as f:
        f.write(user_data)
    with open(os.path.join(out, 'admin'), 'w') as f:
        f.write(admin_private)
    os.chmod(os.path.join(out, 'admin'), 0o600)
    with open(os.path.join(out, 'known_hosts'), 'w') as f:
        f.write(hostkeys.known_hosts_line('127.0.0.1', int(forwarded_port), host_public) + '\n')


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
