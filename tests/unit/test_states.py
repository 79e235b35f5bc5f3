"""Statuses: one definition, the same strings as the API and the database."""
import json

from solum_git.common import states
from solum_git.hook import main as hook


def test_statuses_are_the_strings_the_api_and_database_carry():
    assert states.StackStatus.ACTIVE == 'ACTIVE'
    assert json.dumps({'s': states.RunStatus.QUEUED}) == '{"s": "QUEUED"}'
    assert '%s' % states.RepoStatus.ERROR == 'ERROR'
    assert [str(s) for s in states.STACK_STATUSES] == [
        'BUILDING', 'ACTIVE', 'ERROR', 'DELETING']
    assert [str(s) for s in states.REPO_STATUSES] == ['BUILDING', 'ACTIVE', 'ERROR']
    assert [str(s) for s in states.RUN_STATUSES] == [
        'QUEUED', 'RUNNING', 'SUCCESS', 'FAILED', 'ERROR']


def test_retry_is_a_driver_answer_never_shown():
    assert states.RunStatus.RETRY not in states.RUN_STATUSES
    assert states.RunStatus.RETRY not in states.RUN_FINAL


def test_the_hook_copy_of_the_final_run_statuses_agrees():
    # the hook is one stdlib file on the git server: it cannot import states
    assert tuple(hook.RUN_FINAL) == tuple(str(s) for s in states.RUN_FINAL)
