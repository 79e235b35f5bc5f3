"""A local app's output on disk: where it is, its last lines, and following it.

The runner writes ``$state_path/runs/<run uuid>/app.log`` (pipelines/local.py)
and, when that passes its bound, moves it to ``app.log.1`` and starts again
(one older file is kept). The API reads the same files: it serves app logs
on the host of the engine that runs the app (or a shared state_path).
"""
import os
import time
from typing import Iterator, List, Optional

NAME = 'app.log'
ROTATED = NAME + '.1'
MAX_TAIL = 10000
CHUNK = 64 * 1024


def path(state_path: str, run_uuid: str) -> str:
    return os.path.join(state_path, 'runs', run_uuid, NAME)


def exists(log_path: str) -> bool:
    return os.path.isfile(log_path) or os.path.isfile(log_path[:-len(NAME)] + ROTATED)


def _read(file_path: str) -> bytes:
    try:
        with open(file_path, 'rb') as f:
            return f.read()
    except FileNotFoundError:
        return b''


def tail(log_path: str, lines: Optional[int]) -> bytes:
    """The kept output (the rotated part, then the current), or its last ``lines``."""
    data = _read(log_path + '.1') + _read(log_path)
    if lines is None:
        return data
    kept: List[bytes] = data.splitlines(keepends=True)
    return b''.join(kept[-lines:]) if lines else b''


def follow(log_path: str, start: bytes, seconds: float,
           interval: float = 0.25) -> Iterator[bytes]:
    """``start``, then what is appended for ``seconds`` (a rotation starts over at
    the new file's beginning)."""
    if start:
        yield start
    deadline = time.monotonic() + seconds
    offset, inode = _position(log_path)
    while time.monotonic() < deadline:
        time.sleep(interval)
        try:
            st = os.stat(log_path)
        except FileNotFoundError:
            continue
        if st.st_ino != inode or st.st_size < offset:
            offset, inode = 0, st.st_ino
        if st.st_size == offset:
            continue
        with open(log_path, 'rb') as f:
            f.seek(offset)
            data = f.read(CHUNK)
        offset += len(data)
        if data:
            yield data


def _position(log_path):
    try:
        st = os.stat(log_path)
        return st.st_size, st.st_ino
    except FileNotFoundError:
        return 0, None
