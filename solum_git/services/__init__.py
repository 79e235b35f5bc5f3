"""The service layer: policy checks and orchestration; the API's only door."""
from oslo_config import cfg
from oslo_policy import policy as oslo_policy

from solum_git.db import api as db_api
from solum_git.provisioners import base as provisioners_base
from solum_git.services import backups
from solum_git.services import base
from solum_git.services import deploy_keys
from solum_git.services import deploy_tokens
from solum_git.services import events
from solum_git.services import keys
from solum_git.services import members
from solum_git.services import protected_branches
from solum_git.services import pushes
from solum_git.services import quotas
from solum_git.services import releases
from solum_git.services import repos
from solum_git.services import runs
from solum_git.services import stacks
from solum_git.services import tokens
from solum_git.services import triggers


class Services:
    def __init__(self, conf: cfg.ConfigOpts, db: db_api.Database,
                 enforcer: oslo_policy.Enforcer, engine: base.Notifier,
                 provisioner: provisioners_base.Provisioner):
        self.stacks = stacks.StackService(conf, db, enforcer, engine, provisioner)
        self.repos = repos.RepoService(conf, db, enforcer, engine, self.stacks)
        self.keys = keys.KeyService(conf, db, enforcer, engine)
        self.members = members.MemberService(conf, db, enforcer, engine, self.repos)
        self.triggers = triggers.TriggerService(conf, db, enforcer, engine, self.repos)
        self.pushes = pushes.PushService(conf, db, enforcer, engine, self.repos)
        self.runs = runs.RunService(conf, db, enforcer, engine, self.repos)
        self.releases = releases.ReleaseService(conf, db, enforcer, engine, self.repos)
        self.deploy_tokens = deploy_tokens.DeployTokenService(conf, db, enforcer, engine,
                                                              self.repos)
        self.deploy_keys = deploy_keys.DeployKeyService(conf, db, enforcer, engine,
                                                        self.repos)
        self.tokens = tokens.TokenService(conf, db, enforcer, engine)
        self.backups = backups.BackupService(conf, db, enforcer, engine, self.repos)
        self.events = events.EventService(conf, db, enforcer, engine)
        self.protected_branches = protected_branches.ProtectedBranchService(
            conf, db, enforcer, engine, self.repos)
        self.quotas = quotas.QuotaService(conf, db, enforcer, engine)
