"""Policy defaults in code, one module per resource (oslopolicy-sample-generator)."""
import itertools

from oslo_config import cfg
from oslo_policy import policy

from solum_git.policies import backup
from solum_git.policies import base
from solum_git.policies import deploy_key
from solum_git.policies import deploy_token
from solum_git.policies import event
from solum_git.policies import key
from solum_git.policies import member
from solum_git.policies import protected_branch
from solum_git.policies import push
from solum_git.policies import quota
from solum_git.policies import repo
from solum_git.policies import stack
from solum_git.policies import token
from solum_git.policies import trigger


def list_rules():
    return list(itertools.chain(base.rules, stack.rules, repo.rules, key.rules,
                                member.rules, trigger.rules, push.rules,
                                deploy_token.rules, deploy_key.rules, token.rules,
                                backup.rules, event.rules, protected_branch.rules,
                                quota.rules))


def get_enforcer(conf=None):
    """For oslopolicy-* tools: an enforcer with our defaults registered."""
    conf = conf or cfg.CONF
    conf([], project='solum-git', default_config_files=[])
    return make_enforcer(conf)


def make_enforcer(conf):
    enforcer = policy.Enforcer(conf)
    enforcer.register_defaults(list_rules())
    return enforcer
