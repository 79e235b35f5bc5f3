"""The git server's programs (solum_git/server) as the engine runs them.

Each test runs the zipapp that is shipped to the servers, the way gitolite's
shim runs it (``python3 -I -S solum-git-server PROGRAM ...``), in a home set up
by the real gitolite3 (``gitolite setup``); no sshd is needed.
"""
import os
import pathlib
import shutil
import subprocess
import uuid

import pytest

from solum_git.server import names
from solum_git.server import package

GITOLITE_BINDIR = '/usr/share/gitolite3'
ADMIN = 'solum-git'


class Server:
    def __init__(self, top):
        self.top = top
        self.home = top / 'home'
        self.repos = self.home / 'repositories'
        self.programs = package.write_archive(str(top / package.SERVER_NAME))
        self.home.mkdir()
        subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'admin',
                        '-f', str(top / ADMIN)], check=True)
        shutil.copy(top / (ADMIN + '.pub'), self.home / (ADMIN + '.pub'))
        subprocess.run(['gitolite', 'setup', '-pk', ADMIN + '.pub'], cwd=self.home,
                       env=self.env(GIT_CONFIG_GLOBAL='/dev/null'), check=True,
                       capture_output=True)
        # what bootstrap.sh installs: LOCAL_CODE with the post-receive shim that
        # gitolite links into every repo
        rc = self.home / '.gitolite.rc'
        text = rc.read_text()
        assert '# LOCAL_CODE                =>  "$ENV{HOME}/local",' in text
        rc.write_text(text.replace('# LOCAL_CODE                =>  "$ENV{HOME}/local",',
                                   'LOCAL_CODE                =>  "$ENV{HOME}/local",', 1))
        common = self.home / 'local' / 'hooks' / 'common'
        common.mkdir(parents=True)
        for hook in ('pre-receive', 'post-receive'):
            shim = common / hook
            shim.write_text('#!/bin/sh\ncat >/dev/null\n')
            shim.chmod(0o700)
        subprocess.run(['gitolite', 'setup', '--hooks-only'], env=self.env(), check=True,
                       capture_output=True)
        solum = self.home / '.solum-git'
        solum.mkdir()
        (solum / 'admin-user').write_text(ADMIN + '\n')
        shutil.copy(rc, solum / 'gitolite.rc')

    def env(self, **extra):
        env = {'HOME': str(self.home), 'PATH': os.environ['PATH'], 'LANG': 'C',
               'GL_USER': ADMIN}
        env.update(extra)
        return {k: v for k, v in env.items() if v is not None}

    def run(self, program, *args, **env):
        return subprocess.run(['python3', '-I', '-S', self.programs, program] + list(args),
                              env=self.env(**env), capture_output=True, text=True,
                              timeout=60)

    def sync(self, *args, **env):
        return self.run('solum-sync', *args, **env)

    def head(self, name):
        return (self.repos / (name + '.git') / 'HEAD').read_text().strip()


@pytest.fixture
def server(tmp_path):
    if not shutil.which('gitolite'):
        pytest.fail('gitolite (Debian package gitolite3) is not installed: '
                    'tools/setup-env.sh installs it')
    return Server(tmp_path)


def _tree(top):
    return sorted(str(p.relative_to(top)) for p in top.rglob('*'))


def _id():
    return str(uuid.uuid4())


HOSTILE_NAMES = ['..', '-rf', '--help', 'a\nb', 'a b', '$(touch pwned)', 'x;touch pwned',
                 '`touch pwned`', 'a|b', '../escape', 'a/b', '.hidden', 'x' * 101,
                 'gitolite-admin', 'GITOLITE-ADMIN', 'web.git', 'web.git1', 'HEAD',
                 'CREATOR', '', '\u00e9t\u00e9', 'a\x00b'[:1] + '\t']


# -- create ---------------------------------------------------------------------
def test_create_makes_a_bare_repo_on_its_branch_with_the_hooks(server):
    repo_id = _id()
    done = server.sync('create', 'web', 'trunk', repo_id)
    assert (done.returncode, done.stdout, done.stderr) == (0, 'created web\n', '')
    path = server.repos / 'web.git'
    assert server.head('web') == 'ref: refs/heads/trunk'
    assert (path / 'solum-git-repo').read_text() == repo_id + '\n'
    assert os.readlink(path / 'hooks' / 'post-receive') == str(
        server.home / 'local' / 'hooks' / 'common' / 'post-receive')
    assert os.readlink(path / 'hooks' / 'pre-receive') == str(
        server.home / 'local' / 'hooks' / 'common' / 'pre-receive')
    assert os.readlink(path / 'hooks' / 'update') == str(
        server.home / '.gitolite' / 'hooks' / 'common' / 'update')
    assert (path / 'gl-conf').read_text() == ''
    subprocess.run(['git', '--git-dir', str(path), 'rev-parse', '--git-dir'], check=True,
                   capture_output=True)


@pytest.mark.parametrize('name', HOSTILE_NAMES)
def test_create_refuses_a_hostile_name_and_still_makes_the_others(server, name):
    before = _tree(server.top)
    done = server.sync('create', name, 'main', _id(), 'web', 'main', _id())
    assert done.returncode == 0, done.stderr
    assert done.stdout == 'failed - bad name\ncreated web\n'
    after = set(_tree(server.top)) - set(before)
    assert after and all(p.startswith('home/repositories/web.git') for p in after)
    assert not list(server.top.rglob('pwned')) and not pathlib.Path('pwned').exists()


@pytest.mark.parametrize('branch', ['-rf', 'HEAD', '@', 'a..b', 'a b', 'x\ny', 'a~1',
                                    'refs/heads/x', '$(id)', 'x.lock', '/x', 'x' * 256, ''])
def test_create_refuses_a_branch_git_or_gitolite_would_not_carry(server, branch):
    done = server.sync('create', 'web', branch, _id())
    assert done.returncode == 0
    assert done.stdout.startswith('failed web bad branch') and done.stdout.count('\n') == 1
    assert not (server.repos / 'web.git').exists()


@pytest.mark.parametrize('repo_id', ['ABC', '../x', '', 'a' * 65, '1 2', '-rf'])
def test_create_refuses_an_id_that_is_not_a_uuid(server, repo_id):
    done = server.sync('create', 'web', 'main', repo_id)
    assert done.stdout.startswith('failed web bad id')
    assert not (server.repos / 'web.git').exists()


def test_a_repo_made_already_is_kept_and_one_of_another_uuid_is_replaced(server):
    first, second = _id(), _id()
    server.sync('create', 'web', 'main', first)
    kept = server.repos / 'web.git' / 'refs' / 'heads' / 'kept'
    kept.write_text('0' * 40 + '\n')
    os.unlink(server.repos / 'web.git' / 'hooks' / 'post-receive')

    again = server.sync('create', 'web', 'dev', first)
    assert again.stdout == 'exists web\n'
    assert kept.exists() and server.head('web') == 'ref: refs/heads/dev'
    assert os.path.islink(server.repos / 'web.git' / 'hooks' / 'post-receive')

    other = server.sync('create', 'web', 'main', second)
    assert other.stdout == 'replaced web\ncreated web\n'
    assert not kept.exists()
    assert (server.repos / 'web.git' / 'solum-git-repo').read_text() == second + '\n'


def test_something_else_in_a_repos_place_is_reported_and_left_alone(server, tmp_path):
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    (elsewhere / 'precious').write_text('x')
    os.symlink(elsewhere, server.repos / 'link.git')
    (server.repos / 'file.git').write_text('not a repo')
    done = server.sync('create', 'link', 'main', _id(), 'file', 'main', _id())
    assert done.stdout == ('failed link link.git is in the way (not a repo directory)\n'
                           'failed file file.git is in the way (not a repo directory)\n')
    assert sorted(os.listdir(elsewhere)) == ['precious']
    assert (server.repos / 'file.git').read_text() == 'not a repo'


def test_a_repo_made_already_that_git_cannot_read_is_a_failure_of_its_own(server):
    repo_id = _id()
    server.sync('create', 'web', 'main', repo_id)
    shutil.rmtree(server.repos / 'web.git' / 'objects')
    done = server.sync('create', 'web', 'main', repo_id, 'app', 'main', _id())
    assert done.stdout == ('failed web web.git is not a git repository git can read\n'
                           'created app\n')


# -- head -----------------------------------------------------------------------
def test_head_points_each_repo_at_its_branch_and_reports_the_ones_it_cannot(
        server, tmp_path):
    server.sync('create', 'web', 'main', _id())
    os.symlink(server.repos / 'web.git', server.repos / 'alias.git')
    (server.repos / 'web.git' / 'HEAD.lock').write_text('')
    locked = server.sync('head', 'web', 'dev')
    assert locked.stdout.startswith('failed web HEAD.lock exists')
    os.unlink(server.repos / 'web.git' / 'HEAD.lock')
    done = server.sync('head', 'web', 'release/1.0', 'nope', 'main', 'alias', 'main',
                       '../web', 'main', 'web', '-x')
    assert done.stdout == ('head web release/1.0\nfailed nope no repo nope\n'
                           'failed alias no repo alias\nfailed - bad name\n'
                           'failed web bad branch -x\n')
    assert server.head('web') == 'ref: refs/heads/release/1.0'
    assert not (server.repos / 'web.git' / 'HEAD.lock').exists()


# -- argument handling and who may run it -------------------------------------------
@pytest.mark.parametrize('args, message', [
    ((), 'usage: solum-sync'),
    (('bogus',), 'usage: solum-sync'),
    (('--help',), 'usage: solum-sync'),
    (('create', 'web', 'main'), 'create: NAME BRANCH UUID triples expected'),
    (('create', 'web', 'main', _id(), 'app'), 'create: NAME BRANCH UUID triples expected'),
    (('head', 'web'), 'head: NAME BRANCH pairs expected'),
    (('check', '--fix', 'x'), 'check: only --fix may follow'),
    (('check', '-rf'), 'check: only --fix may follow'),
    (('repos', 'x'), 'repos: takes no arguments'),
])
def test_bad_arguments_stop_the_command_before_it_changes_anything(server, args, message):
    before = _tree(server.top)
    done = server.sync(*args)
    assert done.returncode == 1
    assert done.stderr.startswith('FATAL: solum-sync: ' + message) and done.stdout == ''
    assert _tree(server.top) == before


@pytest.mark.parametrize('program, args', [
    ('solum-sync', ('create', 'web', 'main', _id())), ('solum-sync', ('repos',)),
    ('solum-sync', ('rm', 'testing')), ('solum-sync', ('check', '--fix')),
    ('solum-flush', ())])
@pytest.mark.parametrize('user', ['u-alice', '', None, ADMIN + ' ', 'solum-git\n'])
def test_only_the_admin_may_run_the_programs(server, program, args, user):
    before = _tree(server.top)
    done = server.run(program, *args, GL_USER=user)
    assert done.returncode == 1 and done.stdout == ''
    assert done.stderr == 'FATAL: %s: only the admin may run this\n' % program
    assert _tree(server.top) == before


def test_without_the_admin_file_nobody_may_run_them(server):
    os.unlink(server.home / '.solum-git' / 'admin-user')
    done = server.sync('repos')
    assert done.returncode == 1 and 'only the admin' in done.stderr


def test_an_unknown_program_is_refused():
    done = subprocess.run(['python3', '-I', '-S', package.write_archive(
        str(pathlib.Path(os.environ.get('TMPDIR', '/tmp')) / ('sg-%s' % uuid.uuid4().hex))),
        'rm', '-rf', '/'], capture_output=True, text=True)
    assert done.returncode == 2 and 'usage: solum-git-server' in done.stderr


# -- repos and rm -------------------------------------------------------------------
def test_repos_lists_the_repos_on_disk(server):
    server.sync('create', 'web', 'main', _id())
    (server.repos / 'group').mkdir()
    (server.repos / 'group' / 'nested.git').mkdir()
    assert server.sync('repos').stdout == 'gitolite-admin\ngroup/nested\ntesting\nweb\n'


def test_rm_checks_every_name_before_it_removes_any(server):
    server.sync('create', 'web', 'main', _id())
    for bad in ('..', '-rf', 'a/b', 'gitolite-admin', 'x\ny', '$(id)'):
        done = server.sync('rm', 'web', bad)
        assert done.returncode == 1 and 'rm: refusing' in done.stderr
        assert (server.repos / 'web.git').is_dir()
    done = server.sync('rm', 'web', 'testing')
    assert done.returncode == 1 and 'rm: testing is still in the conf' in done.stderr
    assert (server.repos / 'web.git').is_dir()


def test_rm_removes_repos_gone_from_the_conf_and_never_follows_a_symlink(server, tmp_path):
    server.sync('create', 'web', 'main', _id())
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    (elsewhere / 'precious').write_text('x')
    os.symlink(elsewhere, server.repos / 'link.git')
    done = server.sync('rm', 'web', 'link', 'missing')
    assert (done.returncode, done.stdout) == (0, 'removed web\nremoved link\n')
    assert not (server.repos / 'web.git').exists()
    assert not os.path.lexists(server.repos / 'link.git')
    assert (elsewhere / 'precious').read_text() == 'x'


# -- check ------------------------------------------------------------------------
def _stamp(server):
    done = server.run('solum-stamp')
    assert done.returncode == 0, done.stderr


def test_check_reports_a_clean_server_its_admin_head_and_each_repos_head(server):
    server.sync('create', 'web', 'dev', _id())
    _stamp(server)
    done = server.sync('check')
    head = subprocess.run(['git', '--git-dir', str(server.repos / 'gitolite-admin.git'),
                           'rev-parse', 'master'], capture_output=True, text=True).stdout
    assert done.stdout == ('head %s\nstate clean\nrepo gitolite-admin refs/heads/master\n'
                           'repo testing refs/heads/master\nrepo web refs/heads/dev\n'
                           % head.strip())


def test_check_fix_repairs_what_was_changed_behind_solum_gits_back(server):
    _stamp(server)
    rc = server.home / '.gitolite.rc'
    rc.write_text(rc.read_text() + '\n# an edit\n')
    keys = server.home / '.ssh' / 'authorized_keys'
    keys.write_text(keys.read_text() + 'ssh-ed25519 AAAAintruder\n')
    (server.home / '.gitolite' / 'keydir' / 'evil.pub').write_text('ssh-ed25519 AAAAx\n')
    server.sync('create', 'web', 'main', _id())
    os.unlink(server.repos / 'web.git' / 'hooks' / 'post-receive')

    seen = server.sync('check')
    assert 'state drift: admin-tree rc compiled authorized_keys hooks\n' in seen.stdout
    assert 'fixed' not in seen.stdout and '# an edit' in rc.read_text()

    fixed = server.sync('check', '--fix')
    assert fixed.returncode == 0, fixed.stderr
    assert 'fixed: admin-tree rc compiled authorized_keys hooks\n' in fixed.stdout
    assert '# an edit' not in rc.read_text()
    assert 'intruder' not in keys.read_text() and 'gitolite start' in keys.read_text()
    assert not (server.home / '.gitolite' / 'keydir' / 'evil.pub').exists()
    # gitolite setup relinked the hooks; the stamp is gitolite's to redo on a compile
    _stamp(server)
    assert 'state clean' in server.sync('check').stdout


def test_check_fix_puts_back_the_protected_branch_and_quota_files(server):
    # as the engine's admin push leaves them: committed in gitolite-admin and
    # checked out into the admin base
    admin = server.home / '.gitolite'
    git = ['git', '--git-dir', str(server.repos / 'gitolite-admin.git'),
           '--work-tree', str(admin)]
    env = server.env(GIT_AUTHOR_NAME='t', GIT_AUTHOR_EMAIL='t@t', GIT_COMMITTER_NAME='t',
                     GIT_COMMITTER_EMAIL='t@t', GIT_CONFIG_GLOBAL='/dev/null')
    (admin / 'solum' / 'branches').mkdir(parents=True)
    rules = admin / 'solum' / 'branches' / 'web.json'
    rules.write_text('{"rules": [], "rewinders": []}\n')
    for args in (['add', 'solum'], ['commit', '-q', '-m', 'rules']):
        subprocess.run(git + args, env=env, check=True, capture_output=True)
    _stamp(server)
    assert 'state clean' in server.sync('check').stdout
    rules.write_text('{"rules": [], "rewinders": ["u-mallory"]}\n')
    (admin / 'solum' / 'quota.json').write_text('{"repo_size_bytes": -1}\n')
    seen = server.sync('check')
    assert 'state drift: admin-tree' in seen.stdout, seen.stdout
    fixed = server.sync('check', '--fix')
    assert fixed.returncode == 0, fixed.stderr
    assert rules.read_text() == '{"rules": [], "rewinders": []}\n'
    assert not (admin / 'solum' / 'quota.json').exists()
    _stamp(server)
    assert 'state clean' in server.sync('check').stdout


# -- triggers ---------------------------------------------------------------------
def test_authkeys_runs_gitolites_ssh_authkeys_only_when_keydir_changed(server, tmp_path):
    # gitolite's own bin dir, but ssh-authkeys counts its calls
    bindir = tmp_path / 'bindir'
    (bindir / 'triggers' / 'post-compile').mkdir(parents=True)
    for entry in os.listdir(GITOLITE_BINDIR):
        if entry != 'triggers':
            os.symlink(os.path.join(GITOLITE_BINDIR, entry), bindir / entry)
    calls = tmp_path / 'calls'
    real = pathlib.Path(GITOLITE_BINDIR) / 'triggers' / 'post-compile' / 'ssh-authkeys'
    wrapper = bindir / 'triggers' / 'post-compile' / 'ssh-authkeys'
    wrapper.write_text('#!/bin/sh\necho "$@" >>%s\nexec %s "$@"\n' % (calls, real))
    wrapper.chmod(0o755)
    env = dict(GL_BINDIR=str(bindir), GL_ADMIN_BASE=str(server.home / '.gitolite'),
               GL_LIBDIR=str(pathlib.Path(GITOLITE_BINDIR) / 'lib'))

    def authkeys():
        done = server.run('solum-authkeys', 'POST_COMPILE', **env)
        assert done.returncode == 0, done.stderr
        return calls.read_text().splitlines() if calls.exists() else []

    assert authkeys() == ['POST_COMPILE']
    assert authkeys() == ['POST_COMPILE']
    (server.home / '.gitolite' / 'keydir' / 'u-bob.pub').write_text(
        (tmp_path / (ADMIN + '.pub')).read_text())
    assert len(authkeys()) == 2
    assert 'u-bob' in (server.home / '.ssh' / 'authorized_keys').read_text()


def test_stamp_adds_gitolites_sentinel_without_following_a_planted_symlink(
        server, tmp_path):
    server.sync('create', 'web', 'main', _id())
    os.unlink(server.repos / 'web.git' / 'gl-conf')
    target = tmp_path / 'outside'
    os.unlink(server.repos / 'testing.git' / 'gl-conf')
    os.symlink(target, server.repos / 'testing.git' / 'gl-conf')
    _stamp(server)
    assert (server.repos / 'web.git' / 'gl-conf').read_text() == ''
    assert not target.exists()
    stamps = (server.home / '.solum-git' / 'stamps').read_text().splitlines()
    assert [line.split('  ')[1] for line in stamps] == [
        str(server.home / '.gitolite' / 'conf' / 'gitolite.conf-compiled.pm'),
        str(server.home / '.ssh' / 'authorized_keys'), str(server.home / '.gitolite.rc')]


# -- flush --------------------------------------------------------------------------
def test_flush_hands_over_to_the_hook_program(server):
    assert server.run('solum-flush').stdout == 'solum-flush: no hook program installed\n'
    hook = server.home / '.solum-git' / 'bin' / 'solum-git-hook'
    hook.parent.mkdir()
    hook.write_text('import sys\nprint("hook", *sys.argv[1:])\n')
    done = server.run('solum-flush')
    assert done.stdout == 'hook flush --config %s\n' % (
        server.home / '.solum-git' / 'hook.json')
    assert server.run('solum-flush', '--now').returncode == 1


# -- what is shipped ------------------------------------------------------------------
def test_the_server_programs_import_only_the_standard_library():
    import ast
    import sys
    top = pathlib.Path(package.HERE)
    for path in top.glob('*.py'):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or '']
            else:
                continue
            for module in modules:
                assert (module.split('.')[0] in sys.stdlib_module_names
                        or module.startswith('solum_git.server')), (path.name, module)


def test_the_zipapp_is_the_same_for_the_same_sources_and_holds_every_program():
    import io
    import zipfile
    data = package.archive()
    package.archive.cache_clear()
    assert package.archive() == data
    assert 'solum_git/server/sync.pyc' not in set(
        zipfile.ZipFile(io.BytesIO(package.archive(bytecode=False))).namelist())
    names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    assert {'__main__.py', 'solum_git/server/sync.py', 'solum_git/server/names.py',
            'solum_git/server/flush.py', 'solum_git/server/triggers.py'} <= names
    assert 'solum_git/server/sync.pyc' in names  # no compile on every command
    assert 'solum_git/server/package.py' not in names


def test_the_api_and_the_servers_apply_one_repo_name_rule():
    from solum_git.common import exception
    from solum_git.common import validation
    from solum_git.server import names
    for name in HOSTILE_NAMES + ['web', 'a.b_c-d', 'x' * 100, 'x.gitx']:
        try:
            validation.repo_name(name)
            api_ok = True
        except exception.InvalidInput:
            api_ok = False
        assert api_ok is (names.repo_name_error(name) is None), name
    bootstrap = pathlib.Path(package.bootstrap_script()).read_text()
    assert 'gitolite-admin|' not in bootstrap and 'good_name' not in bootstrap


def test_a_fix_that_cannot_be_done_is_one_fatal_line_not_a_traceback(server):
    os.unlink(server.home / '.solum-git' / 'gitolite.rc')
    done = server.sync('check', '--fix')
    assert done.returncode == 1
    assert done.stderr == 'FATAL: solum-sync: No such file or directory: gitolite.rc\n'
    assert 'state drift: rc' in done.stdout


# -- mv (renamed repos) -----------------------------------------------------------
def test_mv_moves_a_repo_with_its_data_and_is_done_once(server):
    repo_id = _id()
    server.sync('create', 'web', 'main', repo_id)
    kept = server.repos / 'web.git' / 'refs' / 'heads' / 'kept'
    kept.write_text('0' * 40 + '\n')
    done = server.sync('mv', 'web', 'site', repo_id)
    assert (done.returncode, done.stdout, done.stderr) == (0, 'moved web site\n', '')
    assert not (server.repos / 'web.git').exists()
    assert (server.repos / 'site.git' / 'refs' / 'heads' / 'kept').exists()
    # again (a pass that crashed before recording it): nothing to do
    assert server.sync('mv', 'web', 'site', repo_id).stdout == 'exists site\n'
    # a chain of renames not applied yet moves once to the last name
    assert server.sync('mv', 'site', 'www', repo_id, 'web', 'www', repo_id).stdout == \
        'moved site www\nexists www\n'
    assert server.sync('mv', 'nothing', 'here', _id()).stdout == 'missing nothing\n'


@pytest.mark.parametrize('name', HOSTILE_NAMES)
def test_mv_refuses_hostile_names_on_either_side(server, name):
    repo_id = _id()
    server.sync('create', 'web', 'main', repo_id)
    before = _tree(server.top)
    done = server.sync('mv', 'web', name, repo_id, name, 'web', repo_id)
    assert done.returncode == 0, done.stderr
    assert done.stdout == 'failed web bad name\nfailed - bad name\n'
    assert _tree(server.top) == before
    assert not list(server.top.rglob('pwned'))


def test_mv_never_moves_another_repo_nor_over_one_still_to_move(server):
    web, site = _id(), _id()
    server.sync('create', 'web', 'main', web)
    server.sync('create', 'site', 'main', site)
    # not the uuid of web.git: it is someone else's, left alone
    assert server.sync('mv', 'web', 'www', _id()).stdout == 'missing web\n'
    assert (server.repos / 'web.git').exists()
    # site.git must move away first: in the wrong order the second waits
    done = server.sync('mv', 'web', 'site', web, 'site', 'docs', site)
    assert done.stdout == ('failed web site.git is a repo still to be moved away\n'
                           'moved site docs\n')
    assert server.sync('mv', 'web', 'site', web).stdout == 'moved web site\n'
    assert (server.repos / 'site.git' / 'solum-git-repo').read_text() == web + '\n'
    assert (server.repos / 'docs.git' / 'solum-git-repo').read_text() == site + '\n'


def test_mv_replaces_what_a_deleted_repo_left_and_refuses_a_symlink(server, tmp_path):
    web, gone = _id(), _id()
    server.sync('create', 'web', 'main', web)
    server.sync('create', 'old', 'main', gone)
    assert server.sync('mv', 'web', 'old', web).stdout == 'moved web old\n'
    assert (server.repos / 'old.git' / 'solum-git-repo').read_text() == web + '\n'
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    os.symlink(elsewhere, server.repos / 'link.git')
    done = server.sync('mv', 'old', 'link', web)
    assert done.stdout.startswith('failed old link.git is in the way')
    assert (server.repos / 'old.git').is_dir() and elsewhere.exists()


def _moved_file(server, text):
    path = server.home / '.gitolite' / names.MOVED_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_the_moved_trigger_names_the_new_repo_to_who_may_read_it(server):
    conf = server.home / '.gitolite' / 'conf' / 'gitolite.conf'
    conf.write_text(conf.read_text() + '\nrepo site\n    R = u-alice\n')
    subprocess.run(['gitolite', 'compile'], env=server.env(), check=True,
                   capture_output=True)
    _moved_file(server, names.moved_lines({'web': ('site', names.moved_message(
        'web', 'site', ['ssh://git@h:22/site']))}))
    denied = 'R any web u-alice DENIED by fallthru'
    done = server.run('solum-moved', 'ACCESS_1', 'web', 'u-alice', 'R', 'any', denied)
    assert done.returncode == 1
    assert done.stderr == ('FATAL: solum-moved: repo web was renamed to site; use its '
                           'new URL: ssh://git@h:22/site (git remote set-url <remote> '
                           '<new URL>)\n')
    # a user who may not read the new repo: gitolite's own refusal, nothing more
    done = server.run('solum-moved', 'ACCESS_1', 'web', 'u-bob', 'R', 'any', denied)
    assert (done.returncode, done.stderr) == (0, '')
    # granted access, or a name that was never renamed: nothing to say
    assert server.run('solum-moved', 'ACCESS_1', 'web', 'u-alice', 'R', 'any',
                      'refs/.*').returncode == 0
    assert server.run('solum-moved', 'ACCESS_1', 'docs', 'u-alice', 'R', 'any',
                      denied).returncode == 0


def test_the_http_front_reads_the_moved_file_as_the_servers_do(tmp_path):
    front_main = _http_front()
    text = names.moved_lines({'web': ('site', 'repo web was renamed to site'),
                              'a': ('b', 'x  y')}) + 'bad line\n../x y z\n'
    (tmp_path / '.gitolite' / 'solum').mkdir(parents=True)
    (tmp_path / '.gitolite' / names.MOVED_FILE).write_text(text)
    front = front_main.Front(str(tmp_path))
    parsed = names.parse_moved(text)
    assert parsed == {'web': ('site', 'repo web was renamed to site'), 'a': ('b', 'x y')}
    for old, found in parsed.items():
        assert front.moved(old) == found
    assert front.moved('../x') is None and front.moved('docs') is None


def _http_front():
    import importlib.util
    spec = importlib.util.spec_from_file_location('front_main', package.http_program())
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
