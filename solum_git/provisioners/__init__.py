"""Provisioner drivers, loaded by name from the solum_git.provisioners namespace."""
from typing import cast

from oslo_config import cfg
from stevedore import driver

from solum_git.provisioners import base

NAMESPACE = 'solum_git.provisioners'


def load(name: str, conf: cfg.ConfigOpts) -> base.Provisioner:
    # invoke_on_load: ``driver`` is the instance (stevedore types it as maybe the class)
    return cast(base.Provisioner, driver.DriverManager(NAMESPACE, name, invoke_on_load=True,
                                                       invoke_args=(conf,)).driver)
