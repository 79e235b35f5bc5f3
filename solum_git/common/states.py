"""Every status word solum-git stores or shows, defined once.

The values are the strings of the API and the database; a ``StrEnum`` member
compares equal to its string, so rows and JSON bodies need no conversion.
The post-receive hook (hook/main.py) is one stdlib file copied to git
servers: it spells the final run statuses itself, and a unit test checks
they are ``RunStatus.FINAL``.
"""
import enum


class StackStatus(enum.StrEnum):
    """A stack (one tenant git server) as the API shows it."""

    BUILDING = 'BUILDING'
    ACTIVE = 'ACTIVE'
    ERROR = 'ERROR'
    DELETING = 'DELETING'


class RepoStatus(enum.StrEnum):
    """A repo: BUILDING until its server serves it."""

    BUILDING = 'BUILDING'
    ACTIVE = 'ACTIVE'
    ERROR = 'ERROR'


class ServerStatus(enum.StrEnum):
    """What a provisioner's ``check`` says of a server (``ServerState.status``)."""

    BUILDING = 'BUILDING'
    ACTIVE = 'ACTIVE'
    ERROR = 'ERROR'
    # an operator stopped it (local servers)
    STOPPED = 'STOPPED'


class RunStatus(enum.StrEnum):
    """A pipeline run: QUEUED, RUNNING, then one of ``FINAL``."""

    QUEUED = 'QUEUED'
    RUNNING = 'RUNNING'
    SUCCESS = 'SUCCESS'
    FAILED = 'FAILED'
    ERROR = 'ERROR'
    # a driver's answer only, never stored: the engine queues the run again
    RETRY = 'RETRY'


RUN_FINAL = (RunStatus.SUCCESS, RunStatus.FAILED, RunStatus.ERROR)
# what the API shows (RETRY is never stored)
STACK_STATUSES = tuple(StackStatus)
REPO_STATUSES = tuple(RepoStatus)
RUN_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING) + RUN_FINAL
