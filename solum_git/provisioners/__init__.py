"""Provisioner drivers, loaded by name from the solum_git.provisioners namespace."""
from stevedore import driver

NAMESPACE = 'solum_git.provisioners'


def load(name, conf):
    return driver.DriverManager(NAMESPACE, name, invoke_on_load=True,
                                invoke_args=(conf,)).driver
