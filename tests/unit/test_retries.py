"""Backoff of repos in ERROR: doubling, capped, reset by success or a new branch."""
from solum_git.engine import retries


def test_a_failing_repo_backs_off_doubling_up_to_the_cap():
    r = retries.RepoRetries(first=2.0, most=60.0)
    assert r.due(1, 'main', 0.0)
    waits = []
    now = 0.0
    for _ in range(8):
        when = r.failed(1, 'main', now)
        waits.append(when - now)
        assert not r.due(1, 'main', when - 0.01)
        assert r.due(1, 'main', when)
        now = when
    assert waits == [2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]


def test_success_and_a_new_branch_make_it_due_at_once():
    r = retries.RepoRetries()
    r.failed(1, 'main', 0.0)
    assert not r.due(1, 'main', 0.5)
    assert r.due(1, 'trunk', 0.5)
    r.succeeded(1)
    assert r.due(1, 'main', 0.5)
    assert r.failed(1, 'main', 10.0) == 10.0 + retries.FIRST_DELAY


def test_next_try_is_the_earliest_and_now_for_an_unknown_repo():
    r = retries.RepoRetries(first=2.0)
    r.failed(1, 'main', 0.0)
    r.failed(2, 'main', 0.0)
    r.failed(2, 'main', 2.0)
    assert r.next_try([1, 2], 1.0) == 2.0
    assert r.next_try([2, 3], 1.0) == 1.0
    assert r.next_try([], 1.0) is None
