"""Every shipped HOT template passes the real Heat validator (strict, offline).

Heat 27 runs in its own virtualenv (tools/setup-heat-venv.sh); one subprocess
validates all cases. Each broken copy must be refused, so the check can fail.
"""
import json
import os
import subprocess

import pytest
import yaml

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEMPLATES = os.path.join(TOP, 'solum_git', 'provisioners', 'templates')
VALIDATOR = os.path.join(TOP, 'tools', 'heat_validate.py')
SHIPPED = ('git-server-vm.yaml', 'git-server-container.yaml')

# (template, text to find, replacement, what Heat must say)
BROKEN = [
    ('git-server-vm.yaml', 'user_data_format: RAW', 'user_data_fromat: RAW',
     'Unknown Property user_data_fromat'),
    ('git-server-vm.yaml', '{get_param: ssh_cidr}', '{get_param: ssh_cdir}',
     'ssh_cdir'),
    ('git-server-vm.yaml', '[floating_ip, floating_ip_address]',
     '[floating_ip, floating_address]', 'floating_address'),
    ('git-server-vm.yaml', '      flavor: {get_param: flavor}\n', '',
     'Property flavor not assigned'),
    ('git-server-vm.yaml', 'direction: ingress', 'direction: inbound',
     'not an allowed value'),
    ('git-server-vm.yaml', 'size: {get_param: volume_size}', 'size: {get_param: volume_type}',
     'not an integer'),
    ('git-server-vm.yaml', '{get_file: user-data.sh}', '{get_file: user-data.bash}',
     'user-data.bash'),
    ('git-server-vm.yaml', '      network: {get_param: network}\n',
     '      network: {get_attr: [server, first_address]}\n', 'Circular Dependency'),
    ('git-server-vm.yaml', 'type: OS::Nova::Server', 'type: OS::Nova::Servers',
     'OS::Nova::Servers'),
    ('git-server-container.yaml', 'cpu: {get_param: cpu}', 'cpu: {get_param: stack_id}',
     'could not convert string to float'),
    ('git-server-container.yaml', '        - port: {get_resource: port}',
     '        - port: {get_resource: ports}', 'ports'),
    ('git-server-container.yaml', '      image: {get_param: container_image}\n',
     '      image: {get_param: container_image}\n      ports: [22]\n',
     'Unknown Property ports'),
]


def heat_python():
    python = os.environ.get('SOLUM_GIT_HEAT_PYTHON') or os.path.join(
        TOP, '.venv-heat', 'bin', 'python')
    if not os.path.exists(python):
        pytest.fail('no Heat virtualenv at %s: run tools/setup-heat-venv.sh' % python)
    return python


def read(name):
    with open(os.path.join(TEMPLATES, name)) as f:
        return f.read()


def files_map():
    return {name: read(name) for name in os.listdir(TEMPLATES)
            if not name.endswith('.yaml')}


def example_params(name):
    return yaml.safe_load(read(name[:-len('.yaml')] + '.env.yaml'))['parameters']


def validate_all(cases):
    proc = subprocess.run([heat_python(), VALIDATOR, '--cases', '-'],
                          input=json.dumps(cases), capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {r['name']: r for r in json.loads(proc.stdout)}


@pytest.fixture(scope='module')
def results():
    cases = []
    for name in SHIPPED:
        cases.append({'name': name, 'template': read(name), 'params': example_params(name),
                      'files': files_map()})
    for i, (name, old, new, _msg) in enumerate(BROKEN):
        text = read(name)
        assert old in text, 'test is stale: %r is not in %s' % (old, name)
        cases.append({'name': 'broken-%d' % i, 'template': text.replace(old, new, 1),
                      'params': example_params(name), 'files': files_map()})
    return validate_all(cases)


@pytest.mark.parametrize('name', SHIPPED)
def test_shipped_template_passes_strict_heat_validation(results, name):
    result = results[name]
    assert result['ok'], result['error']
    outputs = result['outputs']
    assert outputs['ssh_port'] == 22
    # the smart HTTPS front's port, opened in the security group
    assert outputs['http_port'] == 443
    assert '{get_param: http_port}' in read(name)
    assert outputs['ssh_user'] == 'git'
    assert outputs['ssh_host_keys'] == example_params(name)['host_public_key']
    assert {'ssh_host', 'server_id'} <= set(outputs)


@pytest.mark.parametrize('index', range(len(BROKEN)),
                         ids=['%s:%s' % (b[0].split('-')[2][:-5], b[3][:30]) for b in BROKEN])
def test_broken_template_is_refused(results, index):
    result = results['broken-%d' % index]
    assert not result['ok'], 'Heat accepted a broken template: %s' % (BROKEN[index],)
    assert BROKEN[index][3] in result['error']
