"""What is shipped to a git server, and where it is found (standard library only).

* ``archive()``: the server programs as one zipapp (``python3 FILE PROGRAM
  ARGS``), built from this package, byte for byte the same for the same
  sources (a server's copy is compared with it to tell an upgrade).
* ``bootstrap_script()`` and ``hook_program()``: the one locator of the
  bootstrap script and of the post-receive hook.
* ``programs_tar_xz()``: the programs in one xz-compressed tar, what Heat's
  user_data carries (base64; user_data is limited to 64 KB).

``python3 -m solum_git.server.package OUT`` writes the zipapp (image builds).
"""
import ast
import functools
import importlib.util
import io
import lzma
import os
import sys
import tarfile
import tokenize
import zipfile

from solum_git.server import common

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
# modules the server needs (this one builds, it does not run there)
_LEFT_OUT = {'package.py'}
_EPOCH = (1980, 1, 1, 0, 0, 0)
_MAIN = ('import sys\n\nfrom solum_git.server import main\n\n'
         'sys.exit(main.main())\n')
# the names the programs have on a server (bootstrap.sh and user-data.sh use them)
SERVER_NAME = 'solum-git-server'
HOOK_NAME = 'solum-git-hook'
HTTP_NAME = 'solum-git-http'
BOOTSTRAP_NAME = 'solum-git-bootstrap'


def _entry(zf, name, data, compress=True):
    info = zipfile.ZipInfo(name, _EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    zf.writestr(info, data)


def slim(source):
    """``source`` (bytes of a Python module) without its comments and docstrings.

    For Heat's user_data only, which Nova limits to 64 KB: the server runs the
    same code, tracebacks there show the same line numbers. A first line
    ``#!`` stays.
    """
    lines = source.decode('utf-8').splitlines(keepends=True)
    readline = iter(lines).__next__
    for token in tokenize.generate_tokens(readline):
        row, col = token.start
        if token.type == tokenize.COMMENT and not (row == 1 and token.string.startswith('#!')):
            line = lines[row - 1]
            lines[row - 1] = line[:col].rstrip() + ('\n' if line.endswith('\n') else '')
    text = ''.join(lines)
    spans = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                             ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                spans.append(first)
    raw = [line.encode('utf-8') for line in text.splitlines(keepends=True)]
    # from the end: earlier offsets stay right; col offsets are in UTF-8 bytes
    for node in sorted(spans, key=lambda n: (n.lineno, n.col_offset), reverse=True):
        head = raw[node.lineno - 1][:node.col_offset]
        tail = raw[node.end_lineno - 1][node.end_col_offset:]
        raw[node.lineno - 1:node.end_lineno] = [head + b"''" + tail] + [b'\n'] * (
            node.end_lineno - node.lineno)
    return b''.join(raw)


@functools.lru_cache(maxsize=4)
def archive(bytecode=True, compress=True, slimmed=False):
    """The zipapp's bytes: solum_git/server/*.py and a __main__.

    With ``bytecode`` (this python's, for a server on this host or an image
    built with the server's own python) each module also as a ``.pyc``.
    Without ``compress`` the members are stored: inside the compressed tar the
    sources then compress together with the other programs (6 KB less).
    ``slimmed``: the sources without comments and docstrings (:func:`slim`).
    """
    out = io.BytesIO()
    with zipfile.ZipFile(out, 'w') as zf:
        _entry(zf, '__main__.py', _MAIN, compress)
        _entry(zf, 'solum_git/__init__.py', '', compress)
        for name in sorted(os.listdir(HERE)):
            if name.endswith('.py') and name not in _LEFT_OUT:
                with open(os.path.join(HERE, name), 'rb') as f:
                    source = f.read()
                if slimmed:
                    source = slim(source)
                _entry(zf, 'solum_git/server/' + name, source, compress)
                if bytecode:
                    _entry(zf, 'solum_git/server/%sc' % name, _pyc(name, source), compress)
    return out.getvalue()


def _pyc(name, source):
    """Bytecode checked against the source's hash: zipimport never writes any, so
    without it every command compiles every module (~20 ms). A python of another
    version finds the magic number wrong and compiles the source instead."""
    from importlib import _bootstrap_external
    code = compile(source, 'solum_git/server/' + name, 'exec', dont_inherit=True)
    return bytes(_bootstrap_external._code_to_hash_pyc(
        code, importlib.util.source_hash(source), checked=True))


def write_archive(path, bytecode=True):
    """Write the zipapp to ``path`` if it differs (atomically); the path."""
    data = archive(bytecode)
    try:
        with open(path, 'rb') as f:
            if f.read() == data:
                return path
    except FileNotFoundError:
        pass
    common.replace_with(path, lambda f: f.write(data), 0o644)
    return path


def bootstrap_script(configured=None):
    """The bootstrap to run or send: the configured one, this tree's, the installed one."""
    if configured:
        return configured
    for path in (os.path.join(TOP, 'images', 'bootstrap.sh'),
                 os.path.join(sys.prefix, 'share', 'solum-git', 'bootstrap.sh')):
        if os.path.exists(path):
            return path
    return None


def hook_program():
    """The post-receive program (solum_git/hook/main.py), or None if absent."""
    path = os.path.join(os.path.dirname(HERE), 'hook', 'main.py')
    return path if os.path.exists(path) else None


def http_program():
    """The smart HTTP front (solum_git/httpfront/main.py), or None if absent."""
    path = os.path.join(os.path.dirname(HERE), 'httpfront', 'main.py')
    return path if os.path.exists(path) else None


def programs_tar_xz(bootstrap, hook, http=None):
    """bootstrap, hook, HTTP front and server programs in one deterministic .tar.xz.

    The zipapp without bytecode: the server's python may be another version,
    and with it user_data would pass Nova's 64 KB (a command there compiles
    the modules it runs, ~15 ms).
    """
    files = []
    for name, path in ((BOOTSTRAP_NAME, bootstrap), (HOOK_NAME, hook), (HTTP_NAME, http)):
        if path:
            with open(path, 'rb') as f:
                data = f.read()
            files.append((name, data if name == BOOTSTRAP_NAME else slim(data)))
    files.append((SERVER_NAME, archive(bytecode=False, compress=False, slimmed=True)))
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode='w', format=tarfile.USTAR_FORMAT) as tar:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o755, 0
            info.uname = info.gname = 'root'
            tar.addfile(info, io.BytesIO(data))
    # xz, not gzip: 9% smaller here, which user_data needs; the server
    # unpacks it with python3's lzma (the programs need python3 anyway; xz-utils
    # may be missing from a minimal image)
    return lzma.compress(raw.getvalue(), preset=9 | lzma.PRESET_EXTREME)


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit('usage: python3 -m solum_git.server.package OUT')
    write_archive(sys.argv[1])
