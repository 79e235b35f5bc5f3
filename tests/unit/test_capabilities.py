"""What a driver can do is declared on its ABC; the engine never asks a name."""
import ast
import pathlib

import pytest

from solum_git.pipelines import base
from solum_git.pipelines import local
from solum_git.pipelines import solum
from solum_git.pipelines import webhook
from solum_git.provisioners import base as prov_base
from solum_git.provisioners import heat
from solum_git.provisioners import local as prov_local

ENGINE = pathlib.Path(__file__).resolve().parents[2] / 'solum_git' / 'engine'
DRIVER_NAMES = {'local', 'webhook', 'solum', 'heat', 'bare'}


class _Opts:
    max_attempts, retry_max_attempts = 3, 6


def test_pipeline_defaults_and_what_each_driver_declares():
    assert (base.Pipeline.serial_per_trigger, base.Pipeline.uses_source,
            base.Pipeline.needs_source, base.Pipeline.sandboxed,
            base.Pipeline.keeps_work_dir, base.Pipeline.runs_apps) == (
        False, True, False, False, False, False)
    assert local.LocalRunner.serial_per_trigger and local.LocalRunner.needs_source
    assert local.LocalRunner.sandboxed and local.LocalRunner.runs_apps
    assert local.LocalRunner.keeps_work_dir
    assert not solum.SolumPipeline.uses_source
    assert webhook.WebhookPipeline.uses_source and not webhook.WebhookPipeline.needs_source
    # a lost deploy is redone at most max_attempts times; deliveries retry more
    assert local.LocalRunner.max_attempts(_Opts) == 3
    assert webhook.WebhookPipeline.max_attempts(_Opts) == 6
    assert solum.SolumPipeline.max_attempts(_Opts) == 6


@pytest.mark.parametrize('cls', [prov_local.LocalProvisioner, heat.HeatProvisioner])
def test_provisioners_keep_repos_off_the_engine_by_default(cls):
    assert cls.repo_path is prov_base.Provisioner.repo_path
    assert cls.flush is prov_base.Provisioner.flush


def test_a_provisioner_flush_without_an_address_does_nothing():
    class Stack:
        uuid, ssh_host, ssh_port, ssh_user = 's', None, None, 'git'
        admin_private_key = ssh_host_keys = None

    class Bare(prov_base.Provisioner):
        create = check = delete = None

    assert Bare(None).flush(Stack()) is None
    assert Bare(None).repo_path(Stack(), 'app') is None


@pytest.mark.parametrize('path', sorted(ENGINE.glob('*.py')), ids=lambda p: p.name)
def test_the_engine_names_no_driver_and_probes_none_with_getattr(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            assert node.value not in DRIVER_NAMES, (path.name, node.lineno)
        if isinstance(node, ast.Call) and getattr(node.func, 'id', None) == 'getattr':
            target = ast.unparse(node.args[0])
            assert 'provisioner' not in target and 'driver' not in target, (
                path.name, node.lineno)
