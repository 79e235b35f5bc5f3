"""Building solum-git the way `pip install` does: quiet, and the data files are in it."""
import os
import shutil
import subprocess
import zipfile

from tests import helpers

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# what the code opens by path: Heat templates, alembic revisions, the git server bootstrap
DATA = ('solum_git/provisioners/templates/git-server-vm.yaml',
        'solum_git/provisioners/templates/user-data.sh',
        'solum_git/db/migrations/versions/0001_initial.py',
        'solum_git/db/migrations/script.py.mako',
        'share/solum-git/bootstrap.sh')


def _pip(*args):
    # an isolated build gets the newest setuptools and pbr, as a newcomer's install does;
    # pip passes on the build's warnings even with -q
    done = subprocess.run([os.path.join(helpers.VENV_BIN, 'pip'), *args, '-q', '--no-deps'],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def test_installing_prints_nothing_and_the_wheel_ships_the_data_files(tmp_path):
    # one test: both builds write pbr's AUTHORS and ChangeLog into the tree.
    # A clone has no build artifacts; old ones would hand a build their file list
    for artifact in ('build', 'solum_git.egg-info'):
        shutil.rmtree(os.path.join(TOP, artifact), ignore_errors=True)
    prefix, wheels = tmp_path / 'prefix', tmp_path / 'wheels'
    # tools/setup-env.sh's `pip install -q -e`, into a throwaway prefix (without
    # --ignore-installed pip would first uninstall the running venv's solum-git)
    assert _pip('install', '--ignore-installed', '--prefix', str(prefix), '-e', TOP) == ''
    assert (prefix / 'bin' / 'solum-git-api').exists()
    assert _pip('wheel', '-w', str(wheels), TOP) == ''
    wheel, = wheels.glob('solum_git-*.whl')
    names = zipfile.ZipFile(wheel).namelist()
    for path in DATA:
        assert any(name == path or name.endswith('.data/data/' + path)
                   for name in names), path
    # pbr's wsgi_scripts: the script uwsgi or mod_wsgi loads
    assert any(name.endswith('.data/scripts/solum-git-api-wsgi') for name in names)
