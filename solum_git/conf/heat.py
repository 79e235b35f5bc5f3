"""[heat]: tenant git servers as Heat stacks (VM or Zun container)."""
from oslo_config import cfg

from solum_git.conf import keystone_auth

GROUP = 'heat'
# bandit B104: a VM's git sshd serves the VM's network; ssh_cidr says who reaches it
VM_SSH_LISTEN = '0.0.0.0'  # nosec B104

opts = [
    cfg.StrOpt('server_type', default='vm',
               choices=[('vm', 'OS::Nova::Server from [heat] image'),
                        ('container', 'OS::Zun::Container from [heat] container_image')],
               help='What each tenant git server is.'),
    cfg.StrOpt('template_dir',
               help='Directory with git-server-vm.yaml / git-server-container.yaml '
                    '(and the files they get_file). Default: the ones shipped in '
                    'solum_git/provisioners/templates.'),
    cfg.StrOpt('stack_name_prefix', default='solum-git-',
               help='Heat stack name = prefix + project id.'),
    cfg.StrOpt('image', help='Glance image for VM git servers (images/README.rst).'),
    cfg.StrOpt('flavor', default='m1.small', help='Nova flavor for VM git servers.'),
    cfg.StrOpt('network', help='Neutron network for the servers\' ports.'),
    cfg.StrOpt('floating_network', default='',
               help='External network for floating IPs; empty: no floating IP '
                    '(solum-git and git clients reach the fixed IP).'),
    cfg.StrOpt('key_name', default='',
               help='Nova keypair for operator logins to VM git servers; empty: none.'),
    cfg.StrOpt('container_image', help='Image for container git servers.'),
    cfg.StrOpt('image_driver', default='glance', choices=['glance', 'docker'],
               help='Where Zun finds container_image.'),
    cfg.IntOpt('container_cpu', default=1, min=1, help='vCPUs of a container git server.'),
    cfg.IntOpt('container_memory', default=512, min=128,
               help='MiB of a container git server.'),
    cfg.PortOpt('ssh_port', default=22, help='Port the git sshd listens on.'),
    cfg.PortOpt('http_port', default=443,
                help='Port the git server\'s smart HTTPS front listens on.'),
    cfg.StrOpt('http_cidr', default='0.0.0.0/0',
               help='Addresses allowed to reach the HTTPS port.'),
    cfg.StrOpt('ssh_listen_address', default=VM_SSH_LISTEN,
               help='Address the git sshd binds on a VM git server.'),
    cfg.StrOpt('ssh_cidr', default='0.0.0.0/0',
               help='Who may reach the git sshd (security group rule).'),
    cfg.StrOpt('git_user', default='git', regex=r'^[a-z_][a-z0-9_-]{0,30}$',
               help='System user that owns gitolite on the server.'),
    cfg.IntOpt('volume_size', default=0, min=0,
               help='GB of a Cinder volume that holds the repositories; 0 keeps '
                    'them on the server\'s ephemeral disk (lost with the server).'),
    cfg.StrOpt('volume_type', default='', help='Cinder volume type; empty: default.'),
    cfg.BoolOpt('send_bootstrap', default=True,
                help='Send images/bootstrap.sh and solum-git-hook in user_data, so the '
                     'server runs '
                     'the same bootstrap as this solum-git (and a plain '
                     'Debian/Ubuntu cloud image works). False: run the image\'s '
                     'own /usr/local/sbin/solum-git-bootstrap.'),
    cfg.StrOpt('bootstrap_script',
               help='The bootstrap script to send. Default: images/bootstrap.sh '
                    'of this source tree, or share/solum-git/bootstrap.sh.'),
    cfg.IntOpt('create_timeout', default=30, min=1,
               help='Minutes Heat may take to create a stack (its timeout_mins).'),
    cfg.IntOpt('boot_timeout', default=900, min=1,
               help='Seconds after Heat reports the server built within which '
                    'its sshd must answer with the expected host key.'),
    cfg.IntOpt('delete_timeout', default=600, min=1,
               help='Seconds to wait for a Heat stack delete.'),
    cfg.StrOpt('region_name', help='Region of the orchestration and compute endpoints.'),
    cfg.StrOpt('interface', default='public', help='Endpoint interface in the catalog.'),
    cfg.StrOpt('endpoint_override',
               help='Heat endpoint to use instead of the catalog\'s.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)
    # credentials for Heat/Nova; unset: [keystone_authtoken]'s are used
    keystone_auth.register(conf, GROUP)


def list_opts():
    return {GROUP: opts + keystone_auth.sample_opts()}
