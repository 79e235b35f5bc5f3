"""Every reStructuredText page of the tree renders with no warning: a broken
table, a merge left-over or a Sphinx-only role shows as raw text (or not at
all) to a reader of the repository."""
import io
import pathlib

from docutils import core
import pytest

TOP = pathlib.Path(__file__).resolve().parents[2]
PAGES = sorted(p for p in TOP.glob('**/*.rst')
               if not any(part.startswith('.') or part in ('build', 'node_modules')
                          for part in p.relative_to(TOP).parts))


def test_the_pages_are_found():
    names = {p.relative_to(TOP).as_posix() for p in PAGES}
    assert {'README.rst', 'CONTRIBUTING.rst', 'docs/api.rst'} <= names


@pytest.mark.parametrize('page', PAGES, ids=lambda p: p.relative_to(TOP).as_posix())
def test_page_renders_without_warnings(page):
    errors = io.StringIO()
    core.publish_doctree(page.read_text(), source_path=str(page),
                         settings_overrides={'report_level': 2, 'halt_level': 5,
                                             'warning_stream': errors})
    assert errors.getvalue() == ''
