"""Every public function and method of the typed packages has type hints.

mypy checks only what is annotated and has no flag for "public interfaces
only"; this is that flag. The packages are mypy's own list (``files`` of
``[mypy]`` in setup.cfg). Public: a name without a leading underscore, in a
module and class without one, not nested in a function; ``__init__`` counts
(its parameters are the constructor's), other dunders do not. Every parameter
but a method's ``self``/``cls`` needs a hint, and every return but
``__init__``'s.

    python tools/check_hints.py [FILE_OR_DIR ...]   # exit 1 and one line per miss
"""
import ast
import configparser
import os
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def typed_paths(setup_cfg=os.path.join(TOP, 'setup.cfg')):
    parser = configparser.ConfigParser()
    parser.read(setup_cfg)
    return [p.strip() for p in parser.get('mypy', 'files').split(',') if p.strip()]


def _private(name):
    return name.startswith('_') and not name == '__init__'


def _is_dunder(name):
    return name.startswith('__') and name.endswith('__')


def _misses(func, in_class):
    params = func.args.posonlyargs + func.args.args
    decorators = {getattr(d, 'id', getattr(d, 'attr', None)) for d in func.decorator_list}
    if in_class and 'staticmethod' not in decorators and params:
        params = params[1:]
    params = params + func.args.kwonlyargs
    params += [a for a in (func.args.vararg, func.args.kwarg) if a is not None]
    out = [a.arg for a in params if a.annotation is None]
    if func.returns is None and func.name != '__init__':
        out.append('return')
    return out


def check_source(source, filename='<source>'):
    """One ``file:line: name: no hint for a, b`` per public function that misses some."""
    problems = []

    def walk(node, qualname, in_class):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef) and not _private(child.name):
                walk(child, qualname + child.name + '.', True)
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if _private(child.name) or (_is_dunder(child.name)
                                            and child.name != '__init__'):
                    continue
                missing = _misses(child, in_class)
                if missing:
                    problems.append('%s:%d: %s%s: no hint for %s' % (
                        filename, child.lineno, qualname, child.name,
                        ', '.join(missing)))

    walk(ast.parse(source, filename), '', False)
    return problems


def python_files(paths):
    for path in paths:
        if os.path.isfile(path):
            yield path
            continue
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith(('.', '_')))
            for name in sorted(files):
                if name.endswith('.py') and not _private(name[:-3]) or name == '__init__.py':
                    yield os.path.join(root, name)


def main(argv=None):
    paths = (argv if argv is not None else sys.argv[1:]) or [
        os.path.join(TOP, p) for p in typed_paths()]
    problems = []
    for path in python_files(paths):
        with open(path, encoding='utf-8') as f:
            problems += check_source(f.read(), os.path.relpath(path, TOP))
    for line in problems:
        print(line)
    if problems:
        print('%d public functions without type hints' % len(problems), file=sys.stderr)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
