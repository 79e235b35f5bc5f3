"""A local trigger's deploy settings: commands, env, secrets and health check.

``config.env`` is shown as given; ``config.secrets`` is kept as Fernet tokens
(common/secretbox.py) and shown as names only. Both reach test_cmd and
run_cmd as environment variables.
"""
import re
from typing import Any, Callable, Dict, Tuple

from oslo_config import cfg

from solum_git.common import exception
from solum_git.common import secretbox

NAME = re.compile(r'^[A-Z_][A-Z0-9_]*$')
NAME_RULE = 'must match [A-Z_][A-Z0-9_]* (at most 128 characters)'
# set by solum-git itself, or what a sandboxed shell needs to behave
RESERVED = frozenset(('PORT', 'PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'TZ', 'PWD',
                      'SHELL', 'USER', 'LOGNAME', 'IFS', 'ENV', 'BASH_ENV',
                      'LD_PRELOAD', 'LD_LIBRARY_PATH', 'LD_AUDIT'))
RESERVED_PREFIX = 'SOLUM_GIT_'
MAX_VARS = 64
MAX_VALUE = 4096
MAX_TOTAL = 32 * 1024
MAX_HEALTH_TIMEOUT = 300
SHOWN_SECRET = '***'


def command(value: Any, field: str) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not value.strip() or len(value) > 4096:
        raise exception.InvalidInput(field, 'must be a non-empty shell command of at '
                                     'most 4096 characters')
    if '\x00' in value:
        raise exception.InvalidInput(field, 'must not contain NUL')


def _variables(value: Any, field: str) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        raise exception.InvalidInput(field, 'must be an object of NAME: "value"')
    if len(value) > MAX_VARS:
        raise exception.InvalidInput(field, 'at most %d variables' % MAX_VARS)
    total = 0
    for name, text in value.items():
        key = '%s.%s' % (field, name)
        if len(name) > 128 or not NAME.match(name):
            raise exception.InvalidInput(key, NAME_RULE)
        if name in RESERVED or name.startswith(RESERVED_PREFIX):
            raise exception.InvalidInput(key, 'is reserved (%s and names starting %s '
                                         'are set by solum-git)' % (
                                             ', '.join(sorted(RESERVED)), RESERVED_PREFIX))
        if not isinstance(text, str):
            raise exception.InvalidInput(key, 'must be a string')
        if '\x00' in text or len(text) > MAX_VALUE:
            raise exception.InvalidInput(key, 'must be at most %d characters, no NUL'
                                         % MAX_VALUE)
        total += len(name) + len(text)
    if total > MAX_TOTAL:
        raise exception.InvalidInput(field, 'names and values must total at most %d '
                                     'characters' % MAX_TOTAL)


def _health_path(value: Any) -> None:
    if value is None:
        return
    if (not isinstance(value, str) or not value.startswith('/') or len(value) > 1024
            or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value)):
        raise exception.InvalidInput('config.health_path', 'must be a URL path starting '
                                     'with / (at most 1024 characters, no spaces)')


def _health_timeout(value: Any) -> None:
    if value is None:
        return
    if (isinstance(value, bool) or not isinstance(value, (int, float))
            or not 1 <= value <= MAX_HEALTH_TIMEOUT):
        raise exception.InvalidInput('config.health_timeout', 'must be a number of '
                                     'seconds from 1 to %d' % MAX_HEALTH_TIMEOUT)


# the settings of a local trigger and their checks
SETTINGS: Dict[str, Callable[[Any], None]] = {
    'test_cmd': lambda v: command(v, 'config.test_cmd'),
    'run_cmd': lambda v: command(v, 'config.run_cmd'),
    'env': lambda v: _variables(v, 'config.env'),
    'secrets': lambda v: _variables(v, 'config.secrets'),
    'health_path': _health_path,
    'health_timeout': _health_timeout,
}


def check(config: Dict[str, Any]) -> None:
    """Rules across settings, after each one's own (``SETTINGS``)."""
    if not config.get('test_cmd') and not config.get('run_cmd'):
        raise exception.InvalidInput('config', 'a local trigger needs test_cmd or run_cmd '
                                     '(or both)')
    both = set(config.get('env') or {}) & set(config.get('secrets') or {})
    if both:
        raise exception.InvalidInput('config.secrets.%s' % sorted(both)[0],
                                     'is in config.env too: a name is one or the other')
    for key in ('health_path', 'health_timeout'):
        if config.get(key) is not None and not config.get('run_cmd'):
            raise exception.InvalidInput('config.%s' % key, 'checks the app: only with '
                                         'run_cmd')


def seal(conf: cfg.ConfigOpts, config: Dict[str, Any]) -> Dict[str, Any]:
    """The config to store: secret values replaced by their Fernet tokens."""
    secrets = config.get('secrets')
    if not secrets:
        return config
    try:
        box = secretbox.SecretBox(conf)
    except secretbox.NoKey as e:
        raise exception.InvalidInput('config.secrets', str(e))
    return dict(config, secrets={name: box.seal(value) for name, value in secrets.items()})


def shown(config: Dict[str, Any]) -> Dict[str, Any]:
    """What an API answer shows: secret names, never their values."""
    if 'secrets' not in config:
        return config
    return dict(config, secrets={name: SHOWN_SECRET for name in config['secrets'] or {}})


def merged(current: Dict[str, Any], changes: Any) -> Tuple[Dict[str, Any], Dict[str, str]]:
    """A local trigger's config after a change, as ``check`` sees it, and the
    secrets to seal.

    A key given replaces its setting, a key given null removes it; in
    ``secrets`` a name given a value sets it, a name given null removes it, and
    the names left out keep their values (which nobody can send back).
    """
    if not isinstance(changes, dict):
        raise exception.InvalidInput('config', 'must be an object')
    config = {k: v for k, v in current.items() if k != 'secrets'}
    kept = dict(current.get('secrets') or {})
    new_secrets: Dict[str, str] = {}
    for key, value in changes.items():
        if key == 'secrets':
            if value is not None and not isinstance(value, dict):
                raise exception.InvalidInput('config.secrets', 'must be an object of '
                                             'NAME: "value" (null removes a name)')
            for name, text in (value or {}).items():
                kept.pop(name, None)
                if text is not None:
                    new_secrets[name] = text
            if value is None:
                kept = {}
        elif value is None:
            config.pop(key, None)
        else:
            config[key] = value
    # what check() sees: every name, with the new values (kept ones are sealed already)
    shown_secrets = dict({name: '' for name in kept}, **new_secrets)
    if shown_secrets:
        config['secrets'] = shown_secrets
    return config, kept


def reseal(conf: cfg.ConfigOpts, config: Dict[str, Any],
           kept: Dict[str, str]) -> Dict[str, Any]:
    """The config to store after ``merged``: new secrets sealed, kept tokens as they were."""
    fresh = {k: v for k, v in (config.get('secrets') or {}).items() if k not in kept}
    stored = seal(conf, dict(config, secrets=fresh))
    tokens = dict(kept, **(stored.get('secrets') or {}))
    stored = {k: v for k, v in stored.items() if k != 'secrets'}
    if tokens:
        stored['secrets'] = tokens
    return stored
