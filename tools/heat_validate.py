#!/usr/bin/env python3
"""Validate HOT templates with the real Heat engine (openstack-heat 27.x), offline.

Runs in a virtualenv that has openstack-heat (tools/setup-heat-venv.sh or
``tox -e heat-validate``), never in solum-git's own. Only what needs a cloud is
stubbed: the "is this service deployed" check and the custom constraints that
look a name up (image, flavor, network, keypair, ...). Everything else is Heat's
own strict validation: unknown or misspelled properties, wrong types, bad
get_param/get_attr/get_resource, missing required properties, bad enum values,
dependency cycles, bad conditions and outputs.

Usage:
  heat_validate.py [TEMPLATE...]         validate each (default: every shipped
                                         template) with the .env.yaml beside it
  heat_validate.py --cases -  < JSON     [{"name", "template", "params", "files"}]
                                          -> JSON [{"name", "ok", "error", "outputs"}]
"""
import argparse
import json
import logging
import os
import sys
import warnings

TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'solum_git',
                         'provisioners', 'templates')


def _quiet():
    warnings.simplefilter('ignore')
    logging.disable(logging.CRITICAL)


def _stub_cloud():
    from heat.engine import constraints
    from heat.engine import resource

    # lookup constraints (glance.image, nova.flavor, ...) all derive from this
    constraints.BaseCustomConstraint.validate = lambda self, value, context: True
    resource.Resource.is_service_available = classmethod(lambda cls, ctx: (True, None))


def _context():
    from heat.common import context
    return context.RequestContext(user_id='validator', project_id='validator',
                                  is_admin=False, auth_token='offline')


def validate(template_text, params=None, files=None, name='validated'):
    """Parse + strictly validate one template; return its outputs (resolvable ones)."""
    from heat.common import template_format
    from heat.engine import environment
    from heat.engine import stack as stack_mod
    from heat.engine import template as template_mod

    tmpl_data = template_format.parse(template_text)
    env = environment.Environment({'parameters': params or {}})
    tmpl = template_mod.Template(tmpl_data, env=env, files=files or {})
    stack = stack_mod.Stack(_context(), name, tmpl, strict_validate=True)
    stack.validate(validate_res_tmpl_only=True)
    outputs = {}
    for key, output in stack.outputs.items():
        try:
            outputs[key] = output.get_value()
        except Exception as exc:  # get_attr of a resource that was never created
            outputs[key] = {'unresolved': str(exc)}
    return outputs


def run_case(case):
    result = {'name': case.get('name'), 'ok': False, 'error': None, 'outputs': None}
    try:
        result['outputs'] = validate(case['template'], case.get('params'),
                                     case.get('files'), name='v-%s' % (case.get('name') or 'x'))
        result['ok'] = True
    except Exception as exc:
        result['error'] = '%s: %s' % (type(exc).__name__, exc)
    return result


def _shipped_case(path):
    """A template with its example environment and the files it get_file's."""
    import yaml
    base = os.path.dirname(path)
    with open(path) as f:
        text = f.read()
    env_path = path[:-len('.yaml')] + '.env.yaml'
    with open(env_path) as f:
        params = yaml.safe_load(f)['parameters']
    files = {}
    for name in os.listdir(base):
        if not name.endswith('.yaml'):
            with open(os.path.join(base, name)) as f:
                files[name] = f.read()
    return {'name': os.path.basename(path), 'template': text, 'params': params,
            'files': files}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('templates', nargs='*')
    parser.add_argument('--cases', help='JSON list of cases ("-" for stdin)')
    args = parser.parse_args(argv)
    _quiet()
    _stub_cloud()
    if args.cases:
        stream = sys.stdin if args.cases == '-' else open(args.cases)
        with stream:
            cases = json.load(stream)
        json.dump([run_case(c) for c in cases], sys.stdout, default=str)
        return 0
    templates = args.templates or sorted(
        os.path.join(TEMPLATES, name) for name in os.listdir(TEMPLATES)
        if name.endswith('.yaml') and not name.endswith('.env.yaml'))
    failed = 0
    for path in templates:
        result = run_case(_shipped_case(path))
        print('%s: %s' % (path, 'OK' if result['ok'] else result['error']))
        failed += not result['ok']
    return 1 if failed or not templates else 0


if __name__ == '__main__':
    sys.exit(main())
