#!/usr/bin/env python3
"""solum-backup: a git server's side of solum-git's backups (its admin only).

    solum-backup refs NAME...   each repo's refs: "repo NAME", "head REF",
                                "ref SHA REFNAME" lines, or "missing NAME"
    solum-backup bundles        requests on stdin, a JSON line each:
                                {"repo": NAME, "bases": [SHA...]}; for each, in
                                order, on stdout: a JSON header line, then
                                size_bytes bytes of verified bundle
    solum-backup descends SECONDS
                                requests on stdin, a JSON line each: {"repo",
                                "ref", "old", "new"}: whether NEW descends from
                                OLD, and whether the ref is settled (unchanged
                                SECONDS, no push event waiting in the spool)
    solum-backup restore        frames on stdin (a JSON line, then size_bytes
                                bytes): {"repo", "uuid", "branch", "check"}
                                then its chain's links {"link", "refs",
                                "size_bytes", "sha256"}, full first; one
                                result line per repo on stdout at the end

One call carries many repos (one ssh session, one process here): a bundle is
made, verified and sent, then the next; a restore applies each link's bundle
as it arrives. A bundle never sits whole in memory on either side.

A bundle's own header is the refs snapshot (git resolves the refs once), and
it is verified with ``git bundle verify`` in the repo before a byte is sent.
A restore checks each link's sha256 against the one recorded when it was
taken, then fetches it (git checks its prerequisites and its pack); at the
first broken link it stops and the repo gets the last good link's refs. It
builds the repo next to the old one and swaps it in; a ref of the old one
that the backup lacks, or whose commit descends from the backup's, is kept.
Pushes are refused meanwhile through gitolite's own ``.gitolite.down``.

Standard library only: it runs on the git server with the system python3.
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from solum_git.server import names

SHA = re.compile(r'^[0-9a-f]{40}([0-9a-f]{24})?$')
UUID = re.compile(r'^[0-9a-f-]{1,64}$')
DOWN = '.gitolite.down'
DOWN_TEXT = ('solum-git: this repository is being restored from its backup; '
             'pushes are refused until it is done. Try again in a minute.\n')
MAX_BASES = 10000
MAX_CHECK = 50
CHUNK = 1 << 20
# git as a batch job: no auto gc/maintenance, no FETCH_HEAD
QUIET = ['-c', 'gc.auto=0', '-c', 'maintenance.auto=false', '-c', 'fetch.writeCommitGraph=false']


class Refused(Exception):
    pass


def _base():
    return os.environ.get('GL_REPO_BASE') or os.path.join(os.environ['HOME'], 'repositories')


def _admin_only():
    home = os.environ.get('HOME', '')
    try:
        with open(os.path.join(home, '.solum-git', 'admin-user')) as f:
            admin = f.read().strip()
    except OSError:
        admin = ''
    if not admin or os.environ.get('GL_USER') != admin:
        raise Refused('only the admin may run this')


def _name(name):
    why = names.repo_name_error(name) if isinstance(name, str) else 'not a string'
    if why:
        raise Refused('bad repo name %r: %s' % (str(name)[:120], why))
    return name


def _git(git_dir, *args, **kw):
    env = dict(os.environ, GIT_DIR=git_dir, GIT_CONFIG_NOSYSTEM='1', LANG='C')
    env.pop('GIT_QUARANTINE_PATH', None)
    return subprocess.run(['git'] + QUIET + list(args), env=env, capture_output=True, **kw)


def _err(done):
    return done.stderr.decode(errors='replace').strip()[-300:]


def _refs(git_dir):
    """{refname: sha} of a repo, one for-each-ref (a snapshot)."""
    done = _git(git_dir, 'for-each-ref', '--format=%(objectname) %(refname)')
    if done.returncode != 0:
        raise Refused('cannot read the refs: %s' % _err(done))
    refs = {}
    for line in done.stdout.decode().splitlines():
        sha, _, ref = line.partition(' ')
        refs[ref] = sha
    return refs


def _head(git_dir):
    """HEAD's target read from its file (a process per repo saved)."""
    try:
        with open(os.path.join(git_dir, 'HEAD')) as f:
            text = f.read(4096).strip()
    except OSError:
        return ''
    return text[5:].strip() if text.startswith('ref: ') else ''


def _repo_dir(name):
    return os.path.join(_base(), _name(name) + '.git')


def cmd_refs(repo_names):
    out = sys.stdout
    for name in repo_names:
        git_dir = _repo_dir(name)
        if not os.path.isdir(git_dir) or os.path.islink(git_dir):
            out.write('missing %s\n' % name)
            continue
        try:
            refs = _refs(git_dir)
        except Refused:
            out.write('missing %s\n' % name)
            continue
        out.write('repo %s\n' % name)
        out.write('head %s\n' % (_head(git_dir) or '-'))
        for ref, sha in sorted(refs.items()):
            out.write('ref %s %s\n' % (sha, ref))
    out.flush()


def _has(git_dir, shas):
    """The shas the repo still has as objects (a force-push and gc may drop one)."""
    if not shas:
        return []
    done = _git(git_dir, 'cat-file', '--batch-check=%(objectname) %(objecttype)',
                input=''.join(s + '\n' for s in shas).encode())
    found = []
    for line in done.stdout.decode().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1] != 'missing':
            found.append(parts[0])
    return found


def _bundle_heads(path):
    """{ref: sha} a bundle file's header lists (read here: no git process)."""
    heads = {}
    with open(path, 'rb') as f:
        if not f.readline().startswith(b'# v'):
            raise Refused('not a bundle')
        for line in iter(f.readline, b''):
            line = line.rstrip(b'\n').decode(errors='replace')
            if not line:
                break
            if line.startswith('@') or line.startswith('-'):
                continue    # a capability, a prerequisite
            sha, _, ref = line.partition(' ')
            heads[ref] = sha
    return heads


def _bundle_one(name, bases):
    """(header, path of the verified bundle or None); the caller removes ``tmp``."""
    git_dir = _repo_dir(name)
    if not os.path.isdir(git_dir):
        raise Refused('no repo %s' % name)
    if not isinstance(bases, list) or len(bases) > MAX_BASES or not all(
            isinstance(b, str) and SHA.match(b) for b in bases):
        raise Refused('bases: must be at most %d object ids' % MAX_BASES)
    refs = _refs(git_dir)
    header = {'repo': name, 'head': _head(git_dir), 'refs': refs, 'size_bytes': 0,
              'sha256': None, 'kind': 'incremental' if bases else 'full', 'verified': True}
    if not refs or not set(refs.values()) - set(bases):
        # an empty repo, or nothing new since the bases: the refs are the backup
        return header, None
    tmp = tempfile.mkdtemp(prefix='solum-backup-', dir=os.path.dirname(git_dir))
    path = os.path.join(tmp, 'b.bundle')
    stdin = ''.join(r + '\n' for r in sorted(refs))
    stdin += ''.join('^%s\n' % b for b in _has(git_dir, bases))
    done = _git(git_dir, 'bundle', 'create', '-q', path, '--stdin', input=stdin.encode())
    empty = done.returncode != 0 and b'empty bundle' in done.stderr
    if done.returncode != 0 and not empty:
        raise Refused('git bundle create failed: %s' % _err(done))
    listed = {} if empty else _bundle_heads(path)
    if listed != refs:
        # git resolved each name once: the bundle's header is the snapshot. A
        # ref it left out points into the bases (already backed up) if it
        # still has the value seen before; one moved or deleted meanwhile is
        # left for the next backup.
        now = _refs(git_dir)
        header['refs'] = {ref: sha for ref, sha in refs.items()
                          if ref not in listed and now.get(ref) == sha}
        header['refs'].update(listed)
    if empty:
        return header, None
    verify = _git(git_dir, 'bundle', 'verify', '-q', path)
    if verify.returncode != 0:
        raise Refused('git bundle verify failed: %s' % _err(verify))
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(CHUNK), b''):
            digest.update(chunk)
    header['sha256'] = digest.hexdigest()
    header['size_bytes'] = os.path.getsize(path)
    return header, path


def cmd_bundles(stdin, out):
    """Every request is read first (the engine writes them all, then reads)."""
    requests = [json.loads(line) for line in stdin if line.strip()]
    for request in requests:
        name = request.get('repo') if isinstance(request, dict) else None
        path = None
        try:
            header, path = _bundle_one(name, request.get('bases') or [])
        except (Refused, OSError, ValueError) as e:
            header = {'repo': str(name)[:120], 'error': str(e)[:1000], 'size_bytes': 0}
        try:
            out.write(json.dumps(header, sort_keys=True).encode() + b'\n')
            if path:
                with open(path, 'rb') as f:
                    shutil.copyfileobj(f, out, CHUNK)
            out.flush()
        finally:
            if path:
                shutil.rmtree(os.path.dirname(path), ignore_errors=True)


def _changed_at(git_dir, ref):
    """When ``ref`` was last written: its loose file, else packed-refs."""
    for path in (os.path.join(git_dir, ref), os.path.join(git_dir, 'packed-refs')):
        try:
            return os.stat(path).st_mtime
        except OSError:
            continue
    return 0.0


def _spooled():
    spool = os.path.join(os.environ.get('HOME', ''), '.solum-git', 'spool')
    try:
        return any(n.endswith('.json') for n in os.listdir(spool))
    except OSError:
        return False


def cmd_descends(stdin, out, settle):
    """A ref that moved where no push record says: did it lose commits (it does
    not descend from what solum-git knows), and has it stopped moving?"""
    spooled, now = _spooled(), time.time()
    for line in stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        git_dir = _repo_dir(req.get('repo'))
        ref, old, new = (str(req.get(k) or '') for k in ('ref', 'old', 'new'))
        shas_ok = SHA.match(old) and SHA.match(new)
        if not ref.startswith('refs/') or '..' in ref or not shas_ok:
            raise Refused('bad request for %s' % req.get('repo'))
        descends = bool(_has(git_dir, [old])) and _is_ancestor(git_dir, old, new)
        out.write(json.dumps({'repo': req['repo'], 'ref': ref, 'descends': descends,
                              'settled': not spooled
                              and now - _changed_at(git_dir, ref) >= settle}) + '\n')
    out.flush()


# -- restore ----------------------------------------------------------------------
def _link_hooks(git_dir):
    home = os.environ['HOME']
    admin_base = os.environ.get('GL_ADMIN_BASE') or os.path.join(home, '.gitolite')
    hooks = os.path.join(git_dir, 'hooks')
    os.makedirs(hooks, exist_ok=True)
    shim = os.path.join(home, 'local', 'hooks', 'common', 'post-receive')
    update = os.path.join(admin_base, 'hooks', 'common', 'update')
    for name, target in (('post-receive', shim), ('update', update)):
        link = os.path.join(hooks, name)
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(target, link)
    open(os.path.join(git_dir, 'gl-conf'), 'a').close()


def _is_ancestor(git_dir, old, new):
    return _git(git_dir, 'merge-base', '--is-ancestor', old, new).returncode == 0


def _no_refs(git_dir):
    """True when the repo surely has no refs (no packed-refs, no loose ref): no process."""
    try:
        if os.path.getsize(os.path.join(git_dir, 'packed-refs')):
            return False
    except OSError:
        pass
    for _where, _dirs, files in os.walk(os.path.join(git_dir, 'refs')):
        if files:
            return False
    return True


def _keep_newer(new_dir, old_dir, restored):
    """Refs of the old repo the restore must not drop: {ref: sha} set in new_dir."""
    if _no_refs(old_dir):
        return {}
    try:
        current = _refs(old_dir)
    except Refused:
        return {}
    keep = {}
    for ref, sha in current.items():
        want = restored.get(ref)
        if want == sha:
            continue
        if want is None or (_has(old_dir, [want]) and _is_ancestor(old_dir, want, sha)):
            keep[ref] = sha
    if keep:
        done = _git(new_dir, 'fetch', '-q', '--no-tags', old_dir,
                    *['+%s:%s' % (sha, ref) for ref, sha in sorted(keep.items())])
        if done.returncode != 0:
            # servers that refuse unadvertised ids: by name
            done = _git(new_dir, 'fetch', '-q', '--no-tags', old_dir,
                        *['+%s:%s' % (ref, ref) for ref in sorted(keep)])
        if done.returncode != 0:
            raise Refused('cannot keep the refs pushed since the loss: %s' % _err(done))
    return keep


def _frame(stdin):
    """The next (JSON header, size) on stdin, or (None, 0) at its end."""
    line = stdin.readline(1 << 24)
    if not line.strip():
        return None, 0
    frame = json.loads(line)
    size = frame.get('size_bytes') or 0 if isinstance(frame, dict) else None
    if not isinstance(size, int) or size < 0:
        raise Refused('bad frame')
    return frame, size


def _receive(stdin, size, path):
    """``size`` bytes of stdin into ``path`` (to a bit bucket if None); their sha256."""
    digest = hashlib.sha256()
    f = open(path, 'wb') if path else None
    try:
        while size:
            chunk = stdin.read(min(CHUNK, size))
            if not chunk:
                raise Refused('the stream ended inside a bundle')
            size -= len(chunk)
            digest.update(chunk)
            if f:
                f.write(chunk)
    finally:
        if f:
            f.close()
    return digest.hexdigest()


class _Repo:
    """One repo being restored: built in ``new`` next to the live one."""

    def __init__(self, frame):
        self.name = _name(frame.get('repo'))
        self.uuid = str(frame.get('uuid') or '')
        self.branch = str(frame.get('branch') or '')
        self.check = frame.get('check') or []
        if not UUID.match(self.uuid):
            raise Refused('bad id %r' % self.uuid[:80])
        if _git('/nonexistent', 'check-ref-format', '--branch', self.branch).returncode \
                or self.branch.startswith('-'):
            raise Refused('bad branch %r' % self.branch[:120])
        if not isinstance(self.check, list) or len(self.check) > MAX_CHECK or not all(
                isinstance(c, str) and SHA.match(c) for c in self.check):
            raise Refused('check: at most %d object ids' % MAX_CHECK)
        base = _base()
        self.git_dir = os.path.join(base, self.name + '.git')
        if os.path.islink(self.git_dir) or (os.path.exists(self.git_dir)
                                            and not os.path.isdir(self.git_dir)):
            raise Refused('%s.git is in the way (not a repo directory)' % self.name)
        self.new = os.path.join(base, '.%s.git.restore-%d' % (self.name, os.getpid()))
        self.old = os.path.join(base, '.%s.git.old-%d' % (self.name, os.getpid()))
        self.had = os.path.isdir(self.git_dir)
        self.good = None           # the last link applied
        self.refs = {}
        self.broken = None         # (link, why)
        self.kept = {}
        shutil.rmtree(self.new, ignore_errors=True)
        try:
            _init_bare(self.new, self.branch)
            _write(os.path.join(self.new, DOWN), DOWN_TEXT)
        except OSError:
            shutil.rmtree(self.new, ignore_errors=True)
            raise
        if self.had:
            _write(os.path.join(self.git_dir, DOWN), DOWN_TEXT)

    def apply(self, frame, size, stdin):
        """One link: its bundle checked and fetched; the rest skipped after a broken one."""
        link = str(frame.get('link') or '')[:64]
        refs = frame.get('refs') or {}
        if self.broken:
            _receive(stdin, size, None)
            return
        if frame.get('unreadable'):
            self.broken = (link, str(frame['unreadable'])[:1000])
            return
        if size:
            path = os.path.join(self.new, 'link.bundle')
            digest = _receive(stdin, size, path)
            try:
                if digest != frame.get('sha256'):
                    self.broken = (link, 'is corrupt: its sha256 is %s, %s was recorded'
                                   % (digest[:16], str(frame.get('sha256'))[:16]))
                    return
                # unbundle checks the prerequisites, index-pack the pack; the
                # refs are set once, at the end
                done = _git(self.new, 'bundle', 'unbundle', path)
                if done.returncode != 0:
                    self.broken = (link, 'does not verify: %s' % _err(done))
                    return
            finally:
                os.unlink(path)
        self.good, self.refs = link, refs

    def finish(self):
        """The refs set to the last good link's, hooks linked; swapped in (True) or not."""
        if self.good is None:
            return False
        # a new repo: no refs but these
        lines = ['update %s %s\n' % (ref, sha) for ref, sha in sorted(self.refs.items())]
        if lines:
            done = _git(self.new, 'update-ref', '--stdin', input=''.join(lines).encode())
            if done.returncode != 0:
                self.broken = (self.good, 'its refs cannot be set: %s' % _err(done))
                self.good = None
                return False
        if self.had:
            self.kept = _keep_newer(self.new, self.git_dir, self.refs)
        _write(os.path.join(self.new, 'solum-git-repo'), self.uuid + '\n')
        _link_hooks(self.new)
        if self.had:
            os.rename(self.git_dir, self.old)
        os.rename(self.new, self.git_dir)
        return True

    def settle(self):
        """After the swap: a push that passed gitolite's check before the flag is
        taken too; then pushes are let in again."""
        if self.had and os.path.isdir(self.old):
            self.kept.update(_keep_newer(self.git_dir, self.old,
                                         dict(self.refs, **self.kept)))
            shutil.rmtree(self.old, ignore_errors=True)
        self.unflag()

    def abandon(self):
        shutil.rmtree(self.new, ignore_errors=True)
        if os.path.isdir(self.old) and not os.path.exists(self.git_dir):
            os.rename(self.old, self.git_dir)
        self.unflag()

    def unflag(self):
        try:
            os.unlink(os.path.join(self.git_dir, DOWN))
        except FileNotFoundError:
            pass

    def report(self):
        lines = []
        if self.broken:
            lines.append(json.dumps({'repo': self.name, 'broken': self.broken[0],
                                     'why': self.broken[1][:1000]}))
        if self.good is None:
            return lines + [json.dumps({'repo': self.name, 'failed': 'no usable link'})]
        have = set(_has(self.git_dir, self.check))
        return lines + [json.dumps({
            'repo': self.name, 'restored': self.good, 'refs': len(self.refs),
            'lacks': [c for c in self.check if c not in have], 'kept': self.kept},
            sort_keys=True)]


def cmd_restore(stdin, out):
    results, swapped, current = [], [], None

    def close(repo):
        try:
            if repo.finish():
                swapped.append(repo)
                return
            repo.abandon()
            results.extend(repo.report())
        except (Refused, OSError) as e:
            repo.abandon()
            results.append(json.dumps({'repo': repo.name, 'failed': str(e)[:1000]}))

    try:
        while True:
            frame, size = _frame(stdin)
            if frame is not None and 'repo' not in frame:
                if current is None:
                    raise Refused('a link before its repo')
                current.apply(frame, size, stdin)
                continue
            if current is not None:
                close(current)
                current = None
            if frame is None:
                break
            try:
                current = _Repo(frame)
            except (Refused, OSError) as e:
                results.append(json.dumps({'repo': str(frame.get('repo'))[:120],
                                           'failed': str(e)[:1000]}))
                current = _Skip()
            _receive(stdin, size, None)
    except (Refused, ValueError, OSError) as e:
        # the stream broke: what is done is reported, the repo in hand is not
        if current is not None:
            current.abandon()
            if isinstance(current, _Repo):
                results.append(json.dumps({'repo': current.name, 'failed': str(e)[:1000]}))
        results.append(json.dumps({'error': str(e)[:1000]}))
    if any(repo.had for repo in swapped):
        time.sleep(0.2)     # once per call: pushes that were on their way land
    for repo in swapped:
        try:
            repo.settle()
            results.extend(repo.report())
        except (Refused, OSError) as e:
            repo.unflag()
            results.append(json.dumps({'repo': repo.name, 'failed': str(e)[:1000]}))
    out.write(''.join(line + '\n' for line in results))
    out.flush()


class _Skip:
    """A repo frame refused: its links are read and dropped."""

    name = None

    def apply(self, frame, size, stdin):
        _receive(stdin, size, None)

    def finish(self):
        return False

    def abandon(self):
        pass

    def report(self):
        return []


def _init_bare(git_dir, branch):
    """What ``git init --bare -b BRANCH`` makes, minus its templates (a process saved
    per repo; the hooks are linked after)."""
    for sub in ('objects/info', 'objects/pack', 'refs/heads', 'refs/tags', 'info'):
        os.makedirs(os.path.join(git_dir, sub), mode=0o700)
    _write(os.path.join(git_dir, 'HEAD'), 'ref: refs/heads/%s\n' % branch)
    _write(os.path.join(git_dir, 'config'), '[core]\n\trepositoryformatversion = 0\n'
           '\tfilemode = true\n\tbare = true\n')


def _write(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, 'w') as f:
        f.write(text)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        _admin_only()
        sub, args = (argv[0], argv[1:]) if argv else ('', [])
        if sub == 'refs':
            cmd_refs(args)
        elif sub == 'bundles' and not args:
            cmd_bundles(sys.stdin.buffer, sys.stdout.buffer)
        elif sub == 'descends' and len(args) == 1 and args[0].isdigit():
            cmd_descends(sys.stdin, sys.stdout, int(args[0]))
        elif sub == 'restore' and not args:
            cmd_restore(sys.stdin.buffer, sys.stdout)
        else:
            raise Refused('usage: solum-backup refs NAME... | bundles | descends SECONDS | '
                          'restore (requests on stdin)')
    except (Refused, ValueError) as e:
        sys.stderr.write('FATAL: solum-backup: %s\n' % e)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
