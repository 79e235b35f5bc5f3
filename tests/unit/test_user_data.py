"""Heat's user_data for a VM git server fits Nova's 64 KB and carries the programs."""
import ast
import base64
import glob
import io
import os
import tarfile
import tokenize
import types
import uuid

import pytest

from solum_git import conf as conf_pkg
from solum_git.provisioners import heat
from solum_git.provisioners import hostkeys
from solum_git.server import package
from tests.heatserver import hot

# Nova's API takes user_data base64-encoded (novaclient encodes what Heat hands it)
# and refuses more than 65535 bytes of that
NOVA_USER_DATA_MAX = 65535


def _user_data(**heat_opts):
    conf = conf_pkg.new()
    conf([], project='solum-git', default_config_files=[])
    conf.set_override('network', 'private', group='heat')
    conf.set_override('image', 'solum-git-gitolite', group='heat')
    for key, value in heat_opts.items():
        conf.set_override(key, value, group='heat')
    admin_private, _ = hostkeys.generate()
    host_private, host_public = hostkeys.generate()
    # as a stack row: no image of its own (the operator's [heat] image)
    row = types.SimpleNamespace(uuid=str(uuid.uuid4()), project_id='size-test',
                                hook_secret='ab' * 32, admin_private_key=admin_private,
                                image_id=None)
    prov = heat.HeatProvisioner(conf)
    template, files = prov.template()
    params = prov.parameters(row, {'callback_url': 'http://127.0.0.1:9/v1/hooks/post-receive'},
                             host_private, host_public)
    return params, hot.Stack(template, files, params, lambda *a: None).properties(
        'server')['user_data']


def test_user_data_fits_novas_limit_with_the_programs_in_it():
    params, user_data = _user_data()
    assert len(base64.b64encode(user_data.encode())) <= NOVA_USER_DATA_MAX
    with tarfile.open(fileobj=io.BytesIO(base64.b64decode(params['programs']))) as tar:
        got = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
    assert set(got) == {package.BOOTSTRAP_NAME, package.HOOK_NAME, package.HTTP_NAME,
                        package.SERVER_NAME}
    with open(package.bootstrap_script(), 'rb') as f:
        assert got[package.BOOTSTRAP_NAME] == f.read()
    with open(package.http_program(), 'rb') as f:
        assert got[package.HTTP_NAME] == package.slim(f.read())
    slimmed = package.archive(bytecode=False, compress=False, slimmed=True)
    assert got[package.SERVER_NAME] == slimmed
    assert params['programs'] in user_data


def test_without_send_bootstrap_the_images_programs_are_used():
    params, user_data = _user_data(send_bootstrap=False)
    assert params['programs'] == ''
    assert '--server-programs "$server"' in user_data


def _without_docstrings(tree):
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                             ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                first.value.value = ''
    return ast.dump(tree)


@pytest.mark.parametrize('path', sorted(
    glob.glob(os.path.join(os.path.dirname(package.__file__), '*.py'))
    + [package.hook_program(), package.http_program()]))
def test_a_slimmed_program_is_the_same_code_on_the_same_lines(path):
    with open(path, 'rb') as f:
        source = f.read()
    slimmed = package.slim(source)
    assert len(slimmed) <= len(source)
    assert slimmed.count(b'\n') == source.count(b'\n')
    assert _without_docstrings(ast.parse(slimmed)) == _without_docstrings(ast.parse(source))
    comments = [t for t in tokenize.tokenize(io.BytesIO(slimmed).readline)
                if t.type == tokenize.COMMENT and not t.string.startswith('#!')]
    assert comments == []
