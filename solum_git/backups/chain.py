"""Backup chains, gitaly-backup style: a full bundle, then increments, per repo.

A link is one ``backups`` row: its refs (the refs file, also written to the
store next to the bundle), its bundle (none when nothing new was pushed: a
ref deleted, or moved to a commit backed up already) and a pointer in the
store, ``<repo uuid>/latest.json``, to the newest link.

The server side is ``solum_git/server/backup.py`` (``solum-backup``), reached
over the stack's admin SSH channel. One call carries many repos: ``bundles``
sends back one verified bundle after the other on its stdout, each streamed
into the store as it arrives (its sha256 checked on the way); ``restore``
takes each repo's chain, link after link, streamed from the store to its
stdin; the server checks each link's recorded sha256, fetches it, stops at
the first broken link and sets the last good link's refs.
"""
import hashlib
import json
import subprocess
import tempfile
import threading

from solum_git.backups import base
from solum_git.common import procs

COMMAND = 'solum-backup'
TIMEOUT = 1800
BATCH = 200
CHUNK = 1 << 20


class BackupError(Exception):
    """A backup or a restore could not be done; the text says why."""


class ServerRepo:
    """A repo as the server has it: ``refs`` {ref: sha}, ``head`` (or None: missing)."""

    def __init__(self, refs=None, head=None, missing=False):
        self.refs = refs or {}
        self.head = head
        self.missing = missing


# -- the admin SSH channel -------------------------------------------------------
def _argv(client, *args):
    return procs.tethered(client.ssh_argv() + ['-p', str(client.port),
                                               '%s@%s' % (client.user, client.host),
                                               COMMAND] + list(args))


def server_refs(client, names):
    """{name: ServerRepo} for ``names``, one round trip per 200 names."""
    found = {}
    names = sorted(names)
    for i in range(0, len(names), BATCH):
        batch = names[i:i + BATCH]
        out = _run(client, ['refs'] + batch).decode()
        current = None
        for line in out.splitlines():
            word, _, rest = line.partition(' ')
            if word == 'missing':
                found[rest.strip()] = ServerRepo(missing=True)
            elif word == 'repo':
                current = found[rest.strip()] = ServerRepo()
            elif word == 'head' and current is not None:
                current.head = None if rest.strip() == '-' else rest.strip()
            elif word == 'ref' and current is not None:
                sha, _, ref = rest.partition(' ')
                current.refs[ref.strip()] = sha
    return found


class _Watchdog:
    """Kills a session that outlives TIMEOUT (a read would block forever)."""

    def __init__(self, proc, what):
        self.proc, self.what, self.fired = proc, what, False
        self.timer = threading.Timer(TIMEOUT, self._fire)
        self.timer.daemon = True
        self.timer.start()

    def _fire(self):
        self.fired = True
        self.proc.kill()

    def check(self):
        self.timer.cancel()
        if self.fired:
            raise BackupError('%s %s: no answer in %ss' % (COMMAND, self.what, TIMEOUT))


def _run(client, args, stdin=b''):
    try:
        done = subprocess.run(_argv(client, *args), input=stdin, capture_output=True,
                              timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        raise BackupError('%s %s: no answer in %ss' % (COMMAND, args[0], TIMEOUT))
    if done.returncode != 0:
        raise BackupError('%s %s failed: %s' % (COMMAND, args[0], _tail(done.stderr)))
    return done.stdout


def _session(client, what, feed, read):
    """One ``solum-backup WHAT`` session: ``feed(stdin)`` then ``read(stdout)``.

    stderr goes to a file (a full pipe would stall the server); the server
    reads all its stdin before it answers, so the two never wait on each other.
    """
    err = tempfile.TemporaryFile()
    proc = subprocess.Popen(_argv(client, what), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=err)
    watchdog = _Watchdog(proc, what)
    try:
        try:
            feed(proc.stdin)
            proc.stdin.close()
        except BrokenPipeError:
            pass    # the server ended early: its stderr says why
        result = read(proc.stdout)
        proc.stdout.close()
        proc.wait(TIMEOUT)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        watchdog.timer.cancel()
    watchdog.check()
    if proc.returncode != 0:
        err.seek(0)
        raise BackupError('%s %s failed: %s' % (COMMAND, what, _tail(err.read())))
    return result


def descends(client, checks, settle):
    """{(name, ref): (descends, settled)} for ``checks`` [(name, ref, old, new)]:
    whether ``new`` descends from ``old`` on the server, and whether the ref has
    not changed for ``settle`` seconds with no push event waiting in the spool."""
    if not checks:
        return {}
    stdin = ''.join(json.dumps({'repo': n, 'ref': r, 'old': o, 'new': w}) + '\n'
                    for n, r, o, w in checks).encode()
    found = {}
    for line in _run(client, ['descends', str(int(settle))], stdin).decode().splitlines():
        answer = json.loads(line)
        found[(answer['repo'], answer['ref'])] = (answer['descends'], answer['settled'])
    return found


class Part:
    """The next ``size`` bytes of a session's stdout, hashed on the way."""

    def __init__(self, stream, size):
        self.stream = stream
        self.size = size
        self.left = size
        self.digest = hashlib.sha256()

    def read(self, n=-1):
        n = self.left if n is None or n < 0 else min(n, self.left)
        data = self.stream.read(n) if n else b''
        self.left -= len(data)
        self.digest.update(data)
        return data

    def drain(self):
        while self.left and self.read(CHUNK):
            pass

    def mismatch(self, header):
        """Why the bytes read are not the bundle the server sent, or None."""
        if self.left or self.digest.hexdigest() != header.get('sha256'):
            return ('%d of %d bytes arrived, sha256 %s; the server sent sha256 %s'
                    % (self.size - self.left, self.size, self.digest.hexdigest()[:16],
                       str(header.get('sha256'))[:16]))
        return None


def take_bundles(client, requests, each):
    """``solum-backup bundles`` for ``requests`` [(name, bases)], one session.

    ``each(header, part)`` is called for every answer in order: ``part`` (a
    Part, or None for a repo with no bundle) streams the bundle; what
    ``each`` leaves unread is skipped. A header with ``error`` is a repo the
    server could not bundle. Returns the names answered.
    """
    def feed(stdin):
        stdin.write(''.join(json.dumps({'repo': name, 'bases': sorted(bases)}) + '\n'
                            for name, bases in requests).encode())

    def read(stdout):
        answered = []
        for _request in requests:
            line = stdout.readline(1 << 24)
            if not line:
                break
            try:
                header = json.loads(line)
            except ValueError:
                raise BackupError('%s bundles: a header that is not JSON' % COMMAND)
            size = header.get('size_bytes') or 0
            part = Part(stdout, size) if size else None
            try:
                each(header, part)
            finally:
                if part is not None:
                    part.drain()
            answered.append(header.get('repo'))
        return answered
    return _session(client, 'bundles', feed, read)


class Restore:
    """One repo to restore: its links (full first, usable so far) and the
    pushed commits to look for afterwards."""

    def __init__(self, name, repo_uuid, branch, links, check=()):
        self.name = name
        self.repo_uuid = repo_uuid
        self.branch = branch
        self.links = links
        self.check = sorted(check)[:50]


def restore_batch(client, store, stack_uuid, items):
    """``solum-backup restore`` for ``items`` (Restore), one session.

    Bundles stream from the store to the server. Returns {name: answer}, an
    answer being a dict: ``restored`` (the last good link's uuid), ``lacks``
    (commits of ``check`` it does not have), ``kept`` (refs the old repo had
    that were kept), ``broken`` + ``why`` (the first broken link), or
    ``failed`` (why nothing was restored).
    """
    def feed(stdin):
        for item in items:
            _send_repo(stdin, store, item)

    out = _session(client, 'restore', feed, lambda stdout: stdout.read())
    answers = {}
    for line in out.decode(errors='replace').splitlines():
        try:
            answer = json.loads(line)
        except ValueError:
            continue
        if answer.get('repo'):
            answers.setdefault(answer['repo'], {}).update(answer)
        elif answer.get('error'):
            for item in items:
                answers.setdefault(item.name, {'failed': answer['error']})
    return answers


def _send_repo(pipe, store, item):
    def frame(header):
        pipe.write(json.dumps(header, sort_keys=True).encode() + b'\n')
    frame({'repo': item.name, 'uuid': item.repo_uuid, 'branch': item.branch,
           'check': item.check})
    for link in item.links:
        header = {'link': link.uuid, 'refs': link.refs, 'sha256': link.sha256,
                  'size_bytes': 0}
        if not link.location:
            frame(header)
            continue
        try:
            stream = store.open(link.stack_uuid, link.location)
        except base.StoreError as e:
            header['unreadable'] = 'cannot be read from the store: %s' % e
            frame(header)
            continue
        header['size_bytes'] = size = link.size_bytes or 0
        frame(header)
        sent = _from_store(stream, pipe, size, link)
        # a short object: zeros, which the server's sha256 check refuses
        while sent < size:
            n = min(CHUNK, size - sent)
            pipe.write(bytes(n))
            sent += n


def _from_store(stream, pipe, size, link):
    """The link's bundle from the store into the session; bytes sent.

    A read that fails midway ends the whole session (BackupError): the link
    may be good, and a retry later must not find it marked broken.
    """
    with stream:
        try:
            return base.copy(stream, pipe.write, size, CHUNK)
        except BrokenPipeError:
            raise
        except Exception as e:
            raise BackupError('reading backup %s from the store failed: %s' % (link.uuid, e))


# -- the store side ----------------------------------------------------------------
def location(repo_uuid, chain, seq, backup_uuid, suffix):
    return '%s/%s/%06d-%s.%s' % (repo_uuid, chain, seq, backup_uuid, suffix)


def refs_file(row_like):
    """The refs file written next to each bundle (the DB holds the same)."""
    return json.dumps({'uuid': row_like['uuid'], 'kind': row_like['kind'],
                       'chain': row_like['chain'], 'seq': row_like['seq'],
                       'head': row_like['head'], 'refs': row_like['refs'],
                       'sha256': row_like['sha256'], 'bundle': row_like['location'],
                       'created_at': row_like['created_at']},
                      sort_keys=True, indent=1).encode()


def usable(links):
    """A chain's links before the first one known broken, and that one (or None)."""
    for i, link in enumerate(links):
        if link.broken_reason:
            return links[:i], link
    return list(links), None


def _tail(data, n=4):
    text = data.decode(errors='replace') if isinstance(data, bytes) else (data or '')
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return ' | '.join(lines[-n:])[:1000]
