"""Just enough of HOT to render what a fake cloud needs: user_data, env, outputs.

Real validation is Heat's own (tools/heat_validate.py); this only evaluates the
intrinsic functions our templates use, the way Heat would on a created stack.
"""


class Stack:
    def __init__(self, template, files, params, attrs, ids='fake'):
        """``attrs(resource_name, resource_type, path)`` answers get_attr;
        physical resource ids are ``ids-<resource>``."""
        self.ids = ids
        self.t = template
        self.files = files or {}
        self.params = {k: v.get('default') for k, v in (template.get('parameters') or {}).items()}
        self.params.update(params or {})
        for name, schema in (template.get('parameters') or {}).items():
            if schema.get('type') == 'number' and self.params.get(name) is not None:
                self.params[name] = int(float(self.params[name]))
        self.attrs = attrs
        self.conditions = {}
        for name, expr in (template.get('conditions') or {}).items():
            self.conditions[name] = bool(self.resolve(expr))

    def enabled(self, resource):
        cond = self.t['resources'][resource].get('condition')
        return cond is None or self.conditions[cond]

    def resources(self, type_=None):
        return [name for name, body in self.t['resources'].items()
                if self.enabled(name) and (type_ is None or body['type'] == type_)]

    def properties(self, resource):
        return self.resolve(self.t['resources'][resource].get('properties') or {})

    def outputs(self):
        return {k: self.resolve(v['value']) for k, v in (self.t.get('outputs') or {}).items()}

    def physical_id(self, resource):
        return '%s-%s' % (self.ids, resource)

    def resolve(self, node):
        if isinstance(node, list):
            return [self.resolve(n) for n in node]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, arg), = node.items()
            func = getattr(self, '_fn_' + key, None)
            if func is not None:
                return func(arg)
        return {k: self.resolve(v) for k, v in node.items()}

    def _fn_get_param(self, arg):
        if isinstance(arg, list):
            value = self.params[arg[0]]
            for step in arg[1:]:
                value = value[step]
            return value
        return self.params[arg]

    def _fn_get_file(self, arg):
        return self.files[arg]

    def _fn_get_resource(self, arg):
        return self.physical_id(arg)

    def _fn_get_attr(self, arg):
        resource, path = arg[0], [self.resolve(a) for a in arg[1:]]
        if not self.enabled(resource):
            return None
        return self.attrs(resource, self.t['resources'][resource]['type'], path)

    def _fn_str_replace(self, arg):
        text = self.resolve(arg['template'])
        params = self.resolve(arg['params'])
        for key in sorted(params, key=len, reverse=True):
            text = text.replace(key, '' if params[key] is None else str(params[key]))
        return text

    def _fn_list_join(self, arg):
        return arg[0].join(str(x) for x in self.resolve(arg[1]))

    def _fn_if(self, arg):
        return self.resolve(arg[1] if self.conditions[arg[0]] else arg[2])

    def _fn_equals(self, arg):
        left, right = self.resolve(arg)
        return left == right

    def _fn_not(self, arg):
        return not self.resolve(arg)

    def _fn_and(self, arg):
        return all(self.resolve(a) for a in arg)

    def _fn_or(self, arg):
        return any(self.resolve(a) for a in arg)
