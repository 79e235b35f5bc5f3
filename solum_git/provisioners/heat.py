"""Tenant git servers as Heat stacks: one per project, a Nova VM or a Zun container.

Status follows the Heat stack, and ACTIVE needs more than Heat's word: Heat says
CREATE_COMPLETE when Nova has started the server, before its first boot has run,
so the server is ACTIVE only once its sshd answers with the host key solum-git
generated for it and sent in user_data.
"""
import base64
import datetime
import hashlib
import logging
import os
import re
import time
from typing import Any, Optional, Tuple

from heatclient import client as heat_client
from heatclient.common import template_utils
from heatclient import exc as heat_exc
from keystoneauth1 import loading as ks_loading
from keystoneauth1 import session as ks_session
from novaclient import client as nova_client
from oslo_config import cfg

from solum_git.common import known_hosts
from solum_git.common import states
from solum_git.common import urls
from solum_git.provisioners import base
from solum_git.provisioners import hostkeys
from solum_git.server import package

LOG = logging.getLogger(__name__)

ServerStatus = states.ServerStatus
TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'templates')
TEMPLATE_FILES = {'vm': 'git-server-vm.yaml', 'container': 'git-server-container.yaml'}
CONSOLE_LINES = 30


def stack_name(prefix: str, project_id: str) -> str:
    """Heat names allow [A-Za-z0-9_.-]; a project id needing changes gets a hash suffix."""
    safe = re.sub(r'[^A-Za-z0-9_.-]', '-', project_id)
    if safe != project_id:
        safe += '-' + hashlib.sha256(project_id.encode()).hexdigest()[:8]
    return prefix + safe


def _parse_time(value):
    if not value:
        return None
    value = value.rstrip('Z').split('.')[0]
    return datetime.datetime.strptime(value, '%Y-%m-%dT%H:%M:%S').replace(
        tzinfo=datetime.timezone.utc)


def _outputs(found):
    return {o['output_key']: o.get('output_value')
            for o in (getattr(found, 'outputs', None) or [])}


class HeatProvisioner(base.Provisioner):
    name = 'heat'
    serves_tls = True
    host_key_from_db = True

    def chooses_image(self) -> bool:
        return self.conf.heat.server_type == 'vm'

    def __init__(self, conf: cfg.ConfigOpts):
        super().__init__(conf)
        self._session: Optional[ks_session.Session] = None

    # clients: built on first use, never at import or load time
    def session(self) -> ks_session.Session:
        if self._session is None:
            group = 'heat'
            auth = ks_loading.load_auth_from_conf_options(self.conf, group)
            if auth is None:
                group = 'keystone_authtoken'
                ks_loading.register_auth_conf_options(self.conf, group)
                auth = ks_loading.load_auth_from_conf_options(self.conf, group)
            self._session = ks_loading.load_session_from_conf_options(
                self.conf, 'heat', auth=auth)
        return self._session

    def heat(self) -> Any:
        return heat_client.Client('1', session=self.session(),
                                  region_name=self.conf.heat.region_name,
                                  interface=self.conf.heat.interface,
                                  endpoint_override=self.conf.heat.endpoint_override)

    def nova(self) -> Any:
        return nova_client.Client('2.1', session=self.session(),
                                  region_name=self.conf.heat.region_name,
                                  endpoint_type=self.conf.heat.interface)

    # what Heat is asked to build
    def template(self) -> Tuple[str, dict[str, str]]:
        name = TEMPLATE_FILES[self.conf.heat.server_type]
        path = os.path.join(self.conf.heat.template_dir or TEMPLATES, name)
        files, template = template_utils.get_template_contents(template_file=path)
        files = {k: v.decode() if isinstance(v, bytes) else v for k, v in files.items()}
        return template, files

    def parameters(self, stack: Any, settings: dict[str, Any], host_private_key: str,
                   host_public_key: str) -> dict[str, Any]:
        h = self.conf.heat
        params = {
            'network': h.network,
            'floating_network': h.floating_network or '',
            'ssh_port': h.ssh_port,
            'ssh_cidr': h.ssh_cidr,
            'http_port': h.http_port,
            'http_cidr': h.http_cidr,
            'git_user': h.git_user,
            'volume_size': h.volume_size,
            'stack_id': stack.uuid,
            'callback_url': settings.get('callback_url') or urls.callback_url(self.conf),
            'hook_secret': stack.hook_secret,
            'admin_public_key': (settings.get('admin_public_key')
                                 or hostkeys.public_of(stack.admin_private_key)),
            'host_private_key': hostkeys.b64(host_private_key),
            'host_public_key': host_public_key,
        }
        if h.server_type == 'vm':
            # the stack's own image (chosen when it was made), else the operator's
            params.update(image=stack.image_id or h.image, flavor=h.flavor,
                          key_name=h.key_name or '',
                          ssh_listen_address=h.ssh_listen_address,
                          volume_type=h.volume_type or '',
                          programs=self._programs(settings))
        else:
            params.update(container_image=h.container_image, image_driver=h.image_driver,
                          cpu=h.container_cpu, memory=h.container_memory)
        missing = [k for k in ('network', 'image', 'container_image')
                   if k in params and not params[k]]
        if missing:
            raise ValueError('[heat] %s must be set for server_type = %s'
                             % (', '.join(missing), h.server_type))
        return params

    def _programs(self, settings):
        """bootstrap, hook and server programs for user_data: a base64 tar.xz.

        '' lets the server use the image's copies. Compressed: user_data is
        limited to 64 KB, and the three as plain base64 were more than that.
        """
        if not self.conf.heat.send_bootstrap:
            return ''
        bootstrap = package.bootstrap_script(self.conf.heat.bootstrap_script)
        hook = settings.get('hook_program') or package.hook_program()
        http = settings.get('http_program') or package.http_program()
        for path in (bootstrap, hook, http):
            if not path or not os.path.exists(path):
                raise ValueError('[heat] send_bootstrap: %s not found' % path)
        return base64.b64encode(package.programs_tar_xz(bootstrap, hook, http)).decode()

    def name_for(self, stack: Any) -> str:
        return stack_name(self.conf.heat.stack_name_prefix, stack.project_id)

    def _find(self, heat, name):
        try:
            found = heat.stacks.get(name)
        except heat_exc.HTTPNotFound:
            return None
        return None if found.stack_status == 'DELETE_COMPLETE' else found

    # the Provisioner contract
    def create(self, stack: Any, settings: dict[str, Any]) -> None:
        """Create the Heat stack, or retry a failed one in place (a stack update).

        Idempotent (the engine calls it on every pass while a stack builds): a
        stack in progress, or built and booting, is left alone. Retried: a
        *_FAILED Heat stack, or a built one whose server never answered with its
        host key within boot_timeout (the update replaces the server).
        """
        heat = self.heat()
        name = self.name_for(stack)
        found = self._find(heat, name)
        if found is not None and not self._needs_retry(found):
            return
        template, files = self.template()
        # the key kept in the database: a rebuilt server keeps its clients' pin
        private = getattr(stack, 'ssh_host_private_key', None)
        if private:
            public = hostkeys.public_of(private)
        else:
            private, public = hostkeys.generate()
        fields = dict(template=template, files=files, disable_rollback=True,
                      timeout_mins=self.conf.heat.create_timeout,
                      parameters=self.parameters(stack, settings, private, public))
        if found is None:
            LOG.info('creating Heat stack %s', name)
            heat.stacks.create(stack_name=name, tags='solum-git', **fields)
        else:
            LOG.info('retrying Heat stack %s (%s)', name, found.stack_status)
            heat.stacks.update('%s/%s' % (name, found.id), **fields)

    def _needs_retry(self, found):
        status = found.stack_status
        if status.endswith('_FAILED'):
            return True
        if not status.endswith('_COMPLETE') or status.startswith('DELETE'):
            return False
        return self._probe(found, _outputs(found), {}).status == ServerStatus.ERROR

    def check(self, stack: Any) -> base.ServerState:
        name = self.name_for(stack)
        found = self._find(self.heat(), name)
        if found is None:
            return base.ServerState(ServerStatus.ERROR, 'Heat stack %s not found' % name)
        extra = {'heat_stack_id': found.id}
        status = found.stack_status
        outputs = _outputs(found)
        if status.endswith('_FAILED'):
            return base.ServerState(ServerStatus.ERROR, self._failure(
                'Heat stack %s %s: %s' % (name, status, found.stack_status_reason), outputs),
                extra=extra)
        if status.endswith('_IN_PROGRESS') or status.startswith('DELETE'):
            return base.ServerState(ServerStatus.BUILDING, 'Heat stack %s %s' % (name, status),
                                    extra=extra)
        return self._probe(found, outputs, extra)

    def _probe(self, found, outputs, extra):
        host, port = outputs.get('ssh_host'), outputs.get('ssh_port')
        expected = known_hosts.key_part(outputs.get('ssh_host_keys'))
        if not host or not port or not expected:
            return base.ServerState(ServerStatus.ERROR, 'Heat stack %s: outputs ssh_host, '
                                    'ssh_port and ssh_host_keys are required, got %s'
                                    % (found.stack_name, sorted(outputs)), extra=extra)
        answered = hostkeys.scan(host, port)
        if outputs.get('http_port'):
            extra = dict(extra, http_port=int(outputs['http_port']))
        state = dict(ssh_host=host, ssh_port=int(port),
                     ssh_user=outputs.get('ssh_user') or self.conf.heat.git_user,
                     ssh_host_keys=known_hosts.line(host, port, expected),
                     extra=extra)
        if answered == expected:
            return base.ServerState(ServerStatus.ACTIVE, None, **state)
        if answered is not None:
            return base.ServerState(ServerStatus.ERROR, 'sshd at %s:%s answers with host key '
                                    '%s, not the one solum-git made for it'
                                    % (host, port, answered), **state)
        since = _parse_time(getattr(found, 'updated_time', None)
                            or getattr(found, 'creation_time', None))
        waited = (datetime.datetime.now(datetime.timezone.utc) - since).total_seconds() \
            if since else 0
        if waited > self.conf.heat.boot_timeout:
            return base.ServerState(ServerStatus.ERROR, self._failure(
                'sshd at %s:%s did not answer within [heat] boot_timeout (%ss) of the '
                'server being built' % (host, port, self.conf.heat.boot_timeout), outputs),
                **state)
        return base.ServerState(ServerStatus.BUILDING, 'server built; waiting for its sshd at '
                                '%s:%s (first boot)' % (host, port), **state)

    def _failure(self, reason, outputs):
        """Heat's reason plus the tail of the server's console, where Nova has one."""
        server_id = outputs.get('server_id')
        if not server_id or self.conf.heat.server_type != 'vm':
            return reason
        try:
            log = self.nova().servers.get_console_output(server_id, length=CONSOLE_LINES)
        except Exception as exc:  # the reason must not be lost to a console error
            return '%s (console log unavailable: %s)' % (reason, exc)
        return '%s\n--- console log (last %d lines) ---\n%s' % (reason, CONSOLE_LINES, log)

    def delete(self, stack: Any) -> None:
        """Delete the Heat stack and wait until it is gone (raises if Heat fails)."""
        heat = self.heat()
        name = self.name_for(stack)
        deadline = time.monotonic() + self.conf.heat.delete_timeout
        found = self._find(heat, name)
        if found is None:
            return
        heat.stacks.delete('%s/%s' % (name, found.id))
        while time.monotonic() < deadline:
            found = self._find(heat, name)
            if found is None:
                return
            if found.stack_status == 'DELETE_FAILED':
                raise RuntimeError('Heat stack %s DELETE_FAILED: %s'
                                   % (name, found.stack_status_reason))
            time.sleep(1)
        raise TimeoutError('Heat stack %s not deleted within [heat] delete_timeout' % name)
