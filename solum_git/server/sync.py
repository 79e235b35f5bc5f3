"""solum-sync: solum-git's maintenance of this server (its admin only).

    repos                        list the bare repos on disk
    rm NAME...                   remove repos that are no longer in the conf
    check [--fix]                report (and repair) drift of the conf, keydir,
                                 keys, rc, hooks; list the repos with their HEAD
    create NAME BRANCH UUID...   make new repos (before the push naming them)
    mv OLD NEW UUID...           move renamed repos' directories (in this order)
    head NAME BRANCH...          point repos' HEAD at their default branch

create and head go on past a repo they cannot do: "failed NAME why" for it
(a name that is not one is shown as "-"). Every other refusal stops the
command before it changes anything: "FATAL: solum-sync: why", exit 1.

Per repo, create and head start no process but ``git init`` for a new repo
(a thousand repos are made in one call).
"""
import os
import re
import shutil
import subprocess

from solum_git.server import common
from solum_git.server import names
from solum_git.server import policy

PROGRAM = 'solum-sync'
USAGE = ('usage: solum-sync repos | rm NAME... | check [--fix] | '
         'create NAME BRANCH UUID... | head NAME BRANCH... | mv OLD NEW UUID...')
_ID = re.compile(r'^[0-9a-f-]{1,64}$')
REASON_MAX = 500
POLICY_DIR = policy.TOP_DIR


def _git():
    """git's path, looked up once: a bare name costs an execve per PATH entry."""
    global _GIT_PATH
    if _GIT_PATH is None:
        _GIT_PATH = shutil.which('git') or 'git'
    return _GIT_PATH


_GIT_PATH = None


class RepoFailed(Exception):
    """One repo of create/head could not be done; the text says why."""


# -- repos ---------------------------------------------------------------------
def cmd_repos(home, args):
    if args:
        raise common.Fatal('repos: takes no arguments')
    for name in list_repos(home.repos):
        print(name)


def list_repos(base):
    """NAME for every NAME.git directory up to 3 levels down (not inside one)."""
    found = []
    for root, dirs, _files in os.walk(base):
        depth = 0 if root == base else os.path.relpath(root, base).count(os.sep) + 1
        keep = []
        for d in dirs:
            if d.endswith('.git'):
                found.append(os.path.relpath(os.path.join(root, d), base)[:-4])
            elif depth < 2:
                keep.append(d)
        dirs[:] = keep
    return sorted(found)


# -- rm ------------------------------------------------------------------------
def cmd_rm(home, args):
    # every name is checked before any repo is removed: nothing half done
    for name in args:
        why = names.repo_name_error(name)
        if why:
            raise common.Fatal('rm: refusing %r: %s' % (name, why))
    configured = set(_gitolite(home, 'list-repos').split())
    for name in args:
        if name in configured:
            raise common.Fatal('rm: %s is still in the conf' % name)
    for name in args:
        path = os.path.join(home.repos, name + '.git')
        if os.path.islink(path):
            os.unlink(path)
        elif os.path.isdir(path):
            shutil.rmtree(path)
        else:
            continue
        print('removed %s' % name)


def _gitolite(home, *args):
    done = subprocess.run(['gitolite'] + list(args), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise common.Fatal('gitolite %s failed: %s' % (args[0], done.stderr.strip()[-300:]))
    return done.stdout


# -- check ---------------------------------------------------------------------
def cmd_check(home, args):
    """What the engine needs in one round trip: admin head, drift (fixed), repos."""
    if args not in ([], ['--fix']):
        raise common.Fatal('check: only --fix may follow')
    fix = args == ['--fix']
    print('head %s' % (_admin_head(home) or 'none'))
    drift = find_drift(home)
    if not drift:
        print('state clean')
    else:
        print('state drift: %s' % ' '.join(drift))
        if fix:
            fix_drift(home)
            print('fixed: %s' % ' '.join(drift))
    for name, head in repo_heads(home.repos):
        print('repo %s %s' % (name, head))


def _admin_git(home, *args, check=True):
    argv = [_git(), '--git-dir=%s' % home.admin_git, '--work-tree=%s' % home.admin_base]
    done = subprocess.run(argv + list(args), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True)
    if check and done.returncode != 0:
        raise common.Fatal('git %s failed: %s' % (args[0], done.stderr.strip()[-300:]))
    return done


def _admin_head(home):
    done = _admin_git(home, 'rev-parse', '--verify', '-q', 'refs/heads/master', check=False)
    return done.stdout.strip() if done.returncode == 0 else None


def find_drift(home):
    drift = []
    dirty = _admin_git(home, 'status', '--porcelain', '--untracked-files=all', '--',
                       'conf/gitolite.conf', 'keydir', POLICY_DIR, check=False)
    if dirty.returncode != 0 or dirty.stdout.strip():
        drift.append('admin-tree')
    if common.file_sha256(home.rc) != common.file_sha256(home.rc_copy) \
            or common.file_sha256(home.rc) is None:
        drift.append('rc')
    if home.stamp() != common.read_text(home.stamps):
        drift.append('compiled')
    if _foreign_keys(common.read_text(home.authorized_keys)):
        drift.append('authorized_keys')
    for repo in common.top_repos(home.repos):
        if repo == home.admin_git:
            continue
        if not all(os.path.exists(hook) and os.access(hook, os.X_OK)
                   for hook in (os.path.join(repo, 'hooks', name)
                                for name in ('pre-receive', 'post-receive'))):
            drift.append('hooks')
            break
    return drift


def _gitolite_section(text):
    """The lines gitolite's ssh-authkeys owns (its start and end markers included)."""
    kept, inside = [], False
    for line in text.splitlines(keepends=True):
        if line.startswith('# gitolite start'):
            inside = True
        if inside:
            kept.append(line)
        if line.startswith('# gitolite end'):
            inside = False
    return ''.join(kept)


def _foreign_keys(text):
    """ssh-authkeys keeps lines outside its own section; there must be none."""
    inside = False
    for line in text.splitlines():
        if line.startswith('# gitolite start'):
            inside = True
        elif line.startswith('# gitolite end'):
            inside = False
        elif not inside and line.strip():
            return True
    return False


def fix_drift(home):
    shutil.copyfile(home.rc_copy, home.rc)
    _admin_git(home, 'checkout', '-f', 'master', '--', 'conf/gitolite.conf', 'keydir')
    _admin_git(home, 'clean', '-f', '-d', '-q', '--', 'keydir', POLICY_DIR)
    # protected branches and the quota (policy.py): only once the engine wrote some
    if _admin_git(home, 'cat-file', '-e', 'master:' + POLICY_DIR, check=False).returncode == 0:
        _admin_git(home, 'checkout', '-f', 'master', '--', POLICY_DIR)
    if os.path.isfile(home.authorized_keys):
        # whole, so nobody's key is missing even for a moment
        common.write_atomic(home.authorized_keys,
                            _gitolite_section(common.read_text(home.authorized_keys)))
    try:
        os.unlink(home.keydir_sum)
    except FileNotFoundError:
        pass
    done = subprocess.run(['gitolite', 'setup'], stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if done.returncode != 0:
        raise common.Fatal('gitolite setup failed while fixing drift')


def repo_heads(base):
    """(name, the ref HEAD names or "-") of each top-level repo, by name."""
    heads = []
    for repo in common.top_repos(base):
        text = common.read_text(os.path.join(repo, 'HEAD'), None)
        if not text:
            continue
        first = text.splitlines()[0].split()
        ref = first[1] if len(first) > 1 and first[0] == 'ref:' else '-'
        heads.append((os.path.basename(repo)[:-4], ref))
    return sorted(heads)


# -- create and head: one repo each ----------------------------------------------
def _check_name(name):
    if names.repo_name_error(name):
        raise RepoFailed('bad name')


def _check_branch(branch):
    why = names.branch_name_error(branch)
    if why:
        raise RepoFailed('bad branch %s' % branch)


def _is_git_dir(path):
    """What git itself requires of a repo directory (setup.c, is_git_directory)."""
    head = common.read_text(os.path.join(path, 'HEAD'), None)
    return (head is not None and (head.startswith('ref: refs/') or
                                  re.match(r'^[0-9a-f]{40,64}\s*$', head) is not None)
            and os.path.isdir(os.path.join(path, 'objects'))
            and os.path.isdir(os.path.join(path, 'refs')))


def set_head(path, branch):
    """``git symbolic-ref HEAD refs/heads/BRANCH``, done as git does it, in-process.

    HEAD.lock taken exclusively, then renamed over HEAD: a git changing HEAD at
    the same time makes one of the two fail, never a torn file.
    """
    lock = os.path.join(path, 'HEAD.lock')
    try:
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        raise RepoFailed('HEAD.lock exists: another git is changing HEAD')
    except OSError as e:
        raise RepoFailed('cannot lock HEAD: %s' % e.strerror)
    try:
        with os.fdopen(fd, 'w') as f:
            f.write('ref: refs/heads/%s\n' % branch)
        os.replace(lock, os.path.join(path, 'HEAD'))
    except BaseException:
        try:
            os.unlink(lock)
        except FileNotFoundError:
            pass
        raise


def _symlink(target, path):
    """``ln -sf``, atomically: the hook is never missing for a push in progress."""
    tmp = '%s.solum-sync.%d' % (path, os.getpid())
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass
    os.symlink(target, tmp)
    os.replace(tmp, path)


def link_hooks(home, path):
    """gitolite's update hook (access rules), our pre- and post-receive, the sentinel."""
    hooks = os.path.join(path, 'hooks')
    if os.path.islink(hooks) or not os.path.isdir(hooks):
        if os.path.lexists(hooks):
            os.unlink(hooks)
        os.mkdir(hooks, 0o700)
    _symlink(home.shim, os.path.join(hooks, 'post-receive'))
    _symlink(home.pre_receive, os.path.join(hooks, 'pre-receive'))
    _symlink(home.update_hook, os.path.join(hooks, 'update'))
    sentinel = os.path.join(path, 'gl-conf')
    if not os.path.lexists(sentinel):
        os.close(os.open(sentinel, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                         0o600))


def create_one(home, name, branch, repo_id):
    """Make one repo (or check the one made already); the line to print."""
    _check_name(name)
    _check_branch(branch)
    if not _ID.match(repo_id):
        raise RepoFailed('bad id %s' % repo_id)
    path = os.path.join(home.repos, name + '.git')
    if os.path.islink(path) or (os.path.lexists(path) and not os.path.isdir(path)):
        # not something a repo of ours leaves: an operator must look at it
        raise RepoFailed('%s.git is in the way (not a repo directory)' % name)
    lines = []
    if os.path.isdir(path):
        marker = common.read_text(os.path.join(path, 'solum-git-repo')).rstrip('\n')
        if marker == repo_id:
            if not _is_git_dir(path):
                raise RepoFailed('%s.git is not a git repository git can read' % name)
            set_head(path, branch)
            link_hooks(home, path)
            return 'exists %s' % name
        # left by a deleted repo of the same name
        shutil.rmtree(path)
        lines.append('replaced %s' % name)
    done = subprocess.run([_git(), 'init', '-q', '--bare', '-b', branch, '--', path],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if done.returncode != 0:
        raise RepoFailed((done.stderr or done.stdout).strip() or 'git init failed')
    common.write_atomic(os.path.join(path, 'solum-git-repo'), repo_id + '\n')
    link_hooks(home, path)
    lines.append('created %s' % name)
    return '\n'.join(lines)


def head_one(home, name, branch):
    _check_name(name)
    _check_branch(branch)
    path = os.path.join(home.repos, name + '.git')
    if os.path.islink(path) or not os.path.isdir(path) or not _is_git_dir(path):
        raise RepoFailed('no repo %s' % name)
    set_head(path, branch)
    return 'head %s %s' % (name, branch)


def failure_line(name, why):
    shown = '-' if names.repo_name_error(name) else name
    why = ' '.join(str(why).split()) or 'failed'
    return 'failed %s %s' % (shown, why[:REASON_MAX])


def _each(home, args, width, one):
    if len(args) % width:
        raise common.Fatal(USAGE)
    for i in range(0, len(args), width):
        try:
            line = one(home, *args[i:i + width])
        except RepoFailed as e:
            line = failure_line(args[i], e)
        except OSError as e:
            line = failure_line(args[i], '%s: %s' % (e.strerror, _relative(home, e.filename)))
        print(line, flush=False)


def _relative(home, path):
    # the reasons name the repo, not this server's layout
    if isinstance(path, str) and path.startswith(home.repos + os.sep):
        return path[len(home.repos) + 1:]
    return path or ''


def move_one(home, old, new, repo_id, moving=frozenset()):
    """Move OLD.git to NEW.git if it is repo ``repo_id``'s; the line to print.

    One rename(2): a push under way in OLD.git goes on in the moved directory
    (git works relative to it) and its hook reports the old name. Never over a
    repo still to be moved away (``moving``: the ids of this call's moves).
    """
    _check_name(old)
    _check_name(new)
    if not _ID.match(repo_id):
        raise RepoFailed('bad id %s' % repo_id)
    src = os.path.join(home.repos, old + '.git')
    dst = os.path.join(home.repos, new + '.git')
    for path in (src, dst):
        if os.path.islink(path) or (os.path.lexists(path) and not os.path.isdir(path)):
            raise RepoFailed('%s is in the way (not a repo directory)'
                             % os.path.basename(path))
    marker = 'solum-git-repo'
    if not os.path.isdir(src) or common.read_text(
            os.path.join(src, marker)).rstrip('\n') != repo_id:
        if common.read_text(os.path.join(dst, marker)).rstrip('\n') == repo_id:
            return 'exists %s' % new
        return 'missing %s' % old
    if os.path.isdir(dst):
        held = common.read_text(os.path.join(dst, marker)).rstrip('\n')
        if held in moving:
            raise RepoFailed('%s.git is a repo still to be moved away' % new)
        # left by a deleted repo of that name (as create replaces it)
        shutil.rmtree(dst)
    os.rename(src, dst)
    return 'moved %s %s' % (old, new)


def cmd_mv(home, args):
    """mv OLD NEW UUID...: renamed repos' directories, in the order given."""
    if len(args) % 3:
        raise common.Fatal('mv: OLD NEW UUID triples expected')
    moving = frozenset(args[2::3])
    for i in range(0, len(args), 3):
        old, new, repo_id = args[i:i + 3]
        try:
            line = move_one(home, old, new, repo_id, moving)
        except RepoFailed as e:
            line = failure_line(old, e)
        except OSError as e:
            line = failure_line(old, '%s: %s' % (e.strerror, _relative(home, e.filename)))
        print(line, flush=False)


def cmd_create(home, args):
    """create NAME BRANCH UUID...: new repos, before the push that names them.

    gitolite then has nothing to make (it loads its whole compiled conf once per
    repo it creates). The UUID tells a repo left on disk by a deleted one of the
    same name, which is replaced; a repo made already is checked and its HEAD set.
    """
    if len(args) % 3:
        raise common.Fatal('create: NAME BRANCH UUID triples expected')
    _each(home, args, 3, create_one)


def cmd_head(home, args):
    """head NAME BRANCH...: the branch a clone checks out (the repo's default)."""
    if len(args) % 2:
        raise common.Fatal('head: NAME BRANCH pairs expected')
    _each(home, args, 2, head_one)


COMMANDS = {'repos': cmd_repos, 'rm': cmd_rm, 'check': cmd_check,
            'create': cmd_create, 'head': cmd_head, 'mv': cmd_mv}


def _sync(argv, home=None):
    home = home or common.Home()
    home.require_admin()
    if not argv or argv[0] not in COMMANDS:
        raise common.Fatal(USAGE)
    return COMMANDS[argv[0]](home, list(argv[1:]))


def main(argv):
    return common.run(PROGRAM, _sync, argv)
