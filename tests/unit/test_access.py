"""Access: permissions and gitolite user names defined once."""
import pytest

from solum_git.common import access
from solum_git.common import exception
from solum_git.common import validation
from solum_git.gitolite import render


def test_permissions_are_gitolite_words_weakest_first():
    assert [str(p) for p in access.PERMISSIONS] == ['R', 'RW', 'RW+']
    assert access.OWNER == 'RW+'
    assert [p.tag for p in access.PERMISSIONS] == ['r', 'rw', 'rwp']
    assert all(p.meaning for p in access.PERMISSIONS)


def test_the_permission_rule_names_every_permission():
    with pytest.raises(exception.InvalidInput, match='must be one of R, RW, RW\\+'):
        validation.permission('W')


@pytest.mark.parametrize('perm', ['R', 'RW', 'RW+'])
def test_each_permission_is_rendered_as_its_gitolite_word(perm):
    rendered = render.render([render.Repo('app')], [render.Member('app', 'alice', perm)],
                             [], 'ssh-ed25519 ' + _KEY)
    assert '    %-7s =   u-alice' % perm in rendered.conf


def test_gitolite_names_of_users_round_trip_and_others_are_kept():
    assert access.gitolite_name('alice') == 'u-alice' == render.gitolite_user('alice')
    assert access.user_id_of('u-alice') == 'alice'
    assert access.user_id_of('solum-git') == 'solum-git'


_KEY = 'AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl'
