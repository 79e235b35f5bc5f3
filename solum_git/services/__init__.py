"""The service layer: policy checks and orchestration; the API's only door."""
from solum_git.services import keys
from solum_git.services import members
from solum_git.services import pushes
from solum_git.services import repos
from solum_git.services import runs
from solum_git.services import stacks
from solum_git.services import triggers


class Services:
    def __init__(self, conf, db, enforcer, engine, provisioner):
        self.stacks = stacks.StackService(conf, db, enforcer, engine, provisioner)
        self.repos = repos.RepoService(conf, db, enforcer, engine, self.stacks)
        self.keys = keys.KeyService(conf, db, enforcer, engine)
        self.members = members.MemberService(conf, db, enforcer, engine, self.repos)
        self.triggers = triggers.TriggerService(conf, db, enforcer, engine, self.repos)
        self.pushes = pushes.PushService(conf, db, enforcer, engine, self.repos)
        self.runs = runs.RunService(conf, db, enforcer, engine, self.repos)
