"""Repo backups: stores behind an ABC (stevedore ``solum_git.backup_stores``) and the chains."""
from stevedore import driver

NAMESPACE = 'solum_git.backup_stores'


def load(name, conf):
    return driver.DriverManager(NAMESPACE, name, invoke_on_load=True,
                                invoke_args=(conf,)).driver
