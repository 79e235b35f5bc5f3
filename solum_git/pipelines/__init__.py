"""Pipeline drivers, loaded by trigger type from the solum_git.pipelines namespace."""
from typing import cast

from oslo_config import cfg
from stevedore import driver

from solum_git.pipelines import base

NAMESPACE = 'solum_git.pipelines'


def load(name: str, conf: cfg.ConfigOpts) -> base.Pipeline:
    # invoke_on_load: ``driver`` is the instance (stevedore types it as maybe the class)
    return cast(base.Pipeline, driver.DriverManager(NAMESPACE, name, invoke_on_load=True,
                                                    invoke_args=(conf,)).driver)
