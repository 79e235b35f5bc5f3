"""Pipeline drivers, loaded by trigger type from the solum_git.pipelines namespace."""
from stevedore import driver

NAMESPACE = 'solum_git.pipelines'


def load(name, conf):
    return driver.DriverManager(NAMESPACE, name, invoke_on_load=True,
                                invoke_args=(conf,)).driver
