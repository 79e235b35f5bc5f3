"""The release notes build: reno lints every committed note (bad YAML, unknown
sections, a note that is not a list where it must be)."""
import os
import pathlib
import subprocess
import sys

TOP = pathlib.Path(__file__).resolve().parents[2]
RENO = os.path.join(os.path.dirname(sys.executable), 'reno')


def test_reno_lints_every_release_note():
    done = subprocess.run([RENO, 'lint'], cwd=TOP, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert list((TOP / 'releasenotes' / 'notes').glob('*.yaml'))


def test_reno_reports_the_notes_as_rst():
    done = subprocess.run([RENO, 'report'], cwd=TOP, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert 'GET /v1/openapi.json' in done.stdout
