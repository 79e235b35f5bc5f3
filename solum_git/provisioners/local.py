"""The one-machine provisioner: each stack is a gitolite home with its own sshd."""
import getpass
import os

import sqlalchemy as sa

from solum_git.db import models
from solum_git.provisioners import base


def service_user(conf):
    if os.geteuid() == 0:
        return conf.local.git_user or 'solum-git'
    return getpass.getuser()


class LocalProvisioner(base.Provisioner):
    name = 'local'

    def reserve(self, session, stack):
        """Pick the lowest free loopback port; the unique constraint settles races."""
        host = self.conf.local.ssh_host
        used = set(session.execute(sa.select(models.Stack.ssh_port).where(
            models.Stack.ssh_host == host,
            models.Stack.ssh_port.isnot(None))).scalars())
        for port in range(self.conf.local.ssh_port_min, self.conf.local.ssh_port_max + 1):
            if port not in used:
                break
        else:
            from solum_git.common import exception
            raise exception.ServiceUnavailable(
                'no free port in [local] ssh_port_min..ssh_port_max for a new git '
                'server')
        stack.ssh_host = host
        stack.ssh_port = port
        stack.ssh_user = service_user(self.conf)

    def create(self, stack, settings):
        raise NotImplementedError('local stacks are started by the engine (issue 3)')

    def check(self, stack):
        raise NotImplementedError('local stacks are checked by the engine (issue 3)')

    def delete(self, stack):
        raise NotImplementedError('local stacks are removed by the engine (issue 3)')
