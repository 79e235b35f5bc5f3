"""What the engine reads from the git server's answers (no server needed)."""
import pytest

from solum_git.gitolite import admin


def test_solum_sync_failures_are_read_per_repo():
    out = ('created web\nfailed broken broken.git is in the way (not a repo directory)\n'
           'exists app\nfailed - bad name\nfailed x \nhead app main\n')
    assert admin._failures(out) == {
        'broken': 'broken.git is in the way (not a repo directory)',
        '-': 'bad name', 'x': 'failed on the git server'}
    assert admin._failures('created a\ncreated b\n') == {}


def test_a_compile_that_stops_at_a_repo_names_it():
    err = ('remote: mkdir victim.git: File exists at '
           '/usr/share/gitolite3/lib/Gitolite/Common.pm line 139.\n')
    with pytest.raises(admin.ReposRefused) as e:
        admin._check_push_output(err, ('victim', 'web'))
    assert set(e.value.repos) == {'victim'}


def test_a_compile_failure_naming_no_repo_of_ours_fails_the_push():
    for err in ('remote: FATAL: something else\n',
                'remote: FATAL: mkdir other.git: File exists\n'):
        with pytest.raises(admin.AdminError) as e:
            admin._check_push_output(err, ('victim',))
        assert not isinstance(e.value, admin.ReposRefused)


def test_a_clean_push_output_passes():
    admin._check_push_output('remote: Initialized empty Git repository\n', ('web',))


def test_a_perl_warning_that_names_no_repo_is_not_a_failure():
    admin._check_push_output('remote: Use of uninitialized value in concatenation at '
                             '/usr/share/gitolite3/lib/Gitolite/Conf.pm line 12.\n', ('web',))
