"""tools/check_hints.py: the lint step that fails a public interface without type hints."""
import importlib.util
import os

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_spec = importlib.util.spec_from_file_location(
    'check_hints', os.path.join(TOP, 'tools', 'check_hints.py'))
check_hints = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_hints)


@pytest.mark.parametrize('source, missing', [
    ('def f(a, b: int) -> int: ...', 'f: no hint for a'),
    ('def f(a: int): ...', 'f: no hint for return'),
    ('def f(*args, **kw) -> None: ...', 'f: no hint for args, kw'),
    ('def f(*, key) -> None: ...', 'f: no hint for key'),
    ('class C:\n    def m(self, x) -> None: ...', 'C.m: no hint for x'),
    ('class C:\n    def __init__(self, x): ...', 'C.__init__: no hint for x'),
    ('class C:\n    @staticmethod\n    def m(x) -> None: ...', 'C.m: no hint for x'),
    ('class C:\n    @classmethod\n    def m(cls, x) -> None: ...', 'C.m: no hint for x'),
    ('class C:\n    class D:\n        def m(self) : ...', 'C.D.m: no hint for return'),
])
def test_a_public_function_without_hints_is_named_with_what_it_misses(source, missing):
    assert check_hints.check_source(source, 'm.py') == ['m.py:%d: %s' % (
        source.count('\n') + 1, missing)]


@pytest.mark.parametrize('source', [
    'def f(a: int, *args: str, key: bool = False, **kw: int) -> None: ...',
    'def _private(a): ...',
    'class _Private:\n    def m(self, x): ...',
    'class C:\n    def __init__(self, x: int): ...',
    'class C:\n    def __repr__(self): ...',
    'class C:\n    def _helper(self, x): ...',
    'def f() -> None:\n    def nested(a): ...',
])
def test_typed_private_dunder_and_nested_functions_pass(source):
    assert check_hints.check_source(source) == []


def test_the_checked_packages_are_mypys_own_list():
    assert check_hints.typed_paths() == [
        'solum_git/services', 'solum_git/engine', 'solum_git/provisioners',
        'solum_git/pipelines', 'solum_git/sandboxes', 'solum_git/gitolite']


def test_a_miss_makes_the_check_fail(tmp_path, capsys):
    bad = tmp_path / 'bad.py'
    bad.write_text('def public(x):\n    return x\n')
    good = tmp_path / 'good.py'
    good.write_text('def public(x: int) -> int:\n    return x\n')
    assert check_hints.main([str(good)]) == 0
    assert check_hints.main([str(tmp_path)]) == 1
    assert 'public: no hint for x, return' in capsys.readouterr().out
