"""Sandbox drivers, loaded by name from the solum_git.sandboxes namespace."""
from typing import cast

from oslo_config import cfg
from stevedore import driver

from solum_git.sandboxes import base

NAMESPACE = 'solum_git.sandboxes'


def load(name: str, conf: cfg.ConfigOpts) -> base.Sandbox:
    # invoke_on_load: ``driver`` is the instance (stevedore types it as maybe the class)
    return cast(base.Sandbox, driver.DriverManager(NAMESPACE, name, invoke_on_load=True,
                                                   invoke_args=(conf,)).driver)
