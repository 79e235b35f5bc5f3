"""gitolite's post-compile triggers of a solum-git server.

    solum-authkeys   gitolite's ssh-authkeys, run only when keydir changed (it
                     fingerprints every key, ~5 ms each, on every push)
    solum-stamp      record the compiled conf, authorized_keys and rc, so that
                     ``solum-sync check`` tells when they changed behind
                     solum-git's back
    solum-moved      (ACCESS_1) a refused access to an old name of a renamed
                     repo: the refusal names the new one, to users who may read it
"""
import hashlib
import os
import subprocess

from solum_git.server import common
from solum_git.server import names


def keydir_digest(admin_base):
    """One sha256 over keydir's *.pub files (names and contents, in C order)."""
    top = os.path.join(admin_base, 'keydir')
    found = []
    for root, dirs, files in os.walk(top):
        dirs.sort()
        for name in files:
            path = os.path.join(root, name)
            if name.endswith('.pub') and not os.path.islink(path):
                found.append(os.path.relpath(path, admin_base))
    lines = ''.join('%s  %s\n' % (common.file_sha256(os.path.join(admin_base, rel)), rel)
                    for rel in sorted(found))
    return hashlib.sha256(lines.encode('utf-8', 'surrogateescape')).hexdigest() + '  -'


def _authkeys(argv, home=None):
    home = home or common.Home()
    now = keydir_digest(home.admin_base)
    if (os.path.isfile(home.authorized_keys)
            and common.read_text(home.keydir_sum).rstrip('\n') == now):
        return 0
    bindir = home.env.get('GL_BINDIR')
    if not bindir:
        raise common.Fatal('GL_BINDIR is not set (run by gitolite only)')
    done = subprocess.run([os.path.join(bindir, 'triggers', 'post-compile',
                                        'ssh-authkeys')] + list(argv))
    if done.returncode != 0:
        return done.returncode
    common.write_atomic(home.keydir_sum, now + '\n')
    return 0


def _stamp(argv, home=None):
    home = home or common.Home()
    # solum-git's rules name groups only, so gitolite writes no gl-conf into a
    # repo; without that sentinel it relinks every repo's hooks on every compile.
    # An empty one stops that and is ignored for access (not a split conf).
    for repo in common.top_repos(home.repos):
        sentinel = os.path.join(repo, 'gl-conf')
        if not os.path.lexists(sentinel):
            _touch(sentinel)
    common.write_atomic(home.stamps, home.stamp())
    return 0


def _touch(path):
    """An empty file; never through a symlink planted in its place."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                         0o600))
    except FileExistsError:
        pass


def _moved(argv, home=None):
    """ACCESS_1 REPO USER AA REF RESULT: exit 1 with the message for an old name."""
    home = home or common.Home()
    if len(argv) < 6 or argv[0] != 'ACCESS_1' or 'DENIED' not in argv[5]:
        return 0
    repo, user = argv[1], argv[2]
    found = names.parse_moved(common.read_text(
        os.path.join(home.admin_base, names.MOVED_FILE))).get(repo)
    if found is None:
        return 0
    new, why = found
    # only those who may read the repo learn where it went
    done = subprocess.run(['gitolite', 'access', '-q', new, user, 'R', 'any'],
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
    if done.returncode != 0:
        return 0
    raise common.Fatal(why)


def moved_main(argv):
    return common.run('solum-moved', _moved, argv)


def authkeys_main(argv):
    return common.run('solum-authkeys', _authkeys, argv)


def stamp_main(argv):
    return common.run('solum-stamp', _stamp, argv)
