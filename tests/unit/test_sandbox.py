"""The sandbox's argv and limits builder, its status parsing, the disk meter."""
import os

import pytest

from solum_git import conf as conf_pkg
from solum_git.engine import sandbox_uids
from solum_git.pipelines import disk
from solum_git.sandboxes import base
from solum_git.sandboxes import bwrap

CGROUPS = ['/sys/fs/cgroup/memory/solum-git/x/cgroup.procs',
           '/sys/fs/cgroup/pids/solum-git/x/cgroup.procs']
ENTRIES = [('--symlink', 'usr/bin', '/bin'), ('--symlink', 'usr/lib', '/lib'),
           ('--ro-bind', '/lib64', '/lib64')]


def _job(network=False, **limits):
    values = dict(cpu_seconds=30, memory_mb=256, max_processes=64, max_file_size_mb=10,
                  max_disk_mb=100, max_open_files=512, tmp_size_mb=16)
    values.update(limits)
    return base.Job('test-1', ['/bin/sh', '-c', 'make test'], '/state/runs/r1/box',
                    {'SOLUM_GIT_RUN': 'r1'}, 1900000007, network=network,
                    limits=base.Limits(**values))


def _argv(job, **kw):
    args = dict(as_root=True, bwrap='/usr/bin/bwrap', setpriv='/usr/bin/setpriv',
                prlimit='/usr/bin/prlimit', ro_paths=['/usr', '/etc'], entries=ENTRIES,
                status_fd=7, cgroup_procs=CGROUPS)
    args.update(kw)
    return bwrap.build_argv(job, **args)


def _pairs(argv, flag):
    return [argv[i + 1] for i, a in enumerate(argv) if a == flag]


def _binds(argv, flag):
    """(source, dest) of every ``flag SOURCE DEST`` in argv."""
    return [(argv[i + 1], argv[i + 2]) for i, a in enumerate(argv) if a == flag]


def _inner(argv):
    """What bwrap runs: everything after its own '--'."""
    return argv[argv.index('--') + 1:]


def test_as_root_the_command_switches_to_the_projects_uid_inside_without_a_user_namespace():
    argv = _argv(_job())
    assert '--unshare-user' not in argv and '--unshare-all' not in argv
    inner = _inner(argv)
    assert inner[:6] == ['/usr/bin/setpriv', '--reuid=1900000007', '--regid=1900000007',
                         '--clear-groups', '--inh-caps=-all', '--']
    assert inner[6] == '/usr/bin/prlimit'
    assert inner[-4:] == ['--', '/bin/sh', '-c', 'make test']
    # bwrap keeps only what setpriv needs; everything else is dropped
    assert _pairs(argv, '--cap-drop') == ['ALL']
    assert sorted(_pairs(argv, '--cap-add')) == ['CAP_DAC_READ_SEARCH', 'CAP_SETGID',
                                                 'CAP_SETUID']
    for flag in ('--unshare-pid', '--unshare-ipc', '--unshare-uts', '--die-with-parent',
                 '--new-session'):
        assert flag in argv


def test_an_ordinary_user_gets_a_user_namespace_with_no_nested_ones_and_no_setpriv():
    argv = _argv(_job(), as_root=False, cgroup_procs=())
    assert argv[:3] == ['/usr/bin/bwrap', '--unshare-user', '--disable-userns']
    assert '/usr/bin/setpriv' not in argv and '--cap-add' not in argv
    assert _inner(argv)[0] == '/usr/bin/prlimit'


def test_the_mount_view_is_the_system_read_only_and_the_work_dir_only():
    argv = _argv(_job())
    assert _binds(argv, '--ro-bind-try') == [('/usr', '/usr'), ('/etc', '/etc')]
    assert _binds(argv, '--bind') == [('/state/runs/r1/box', '/work')], \
        'one writable bind: the work dir'
    assert _pairs(argv, '--symlink') == ['usr/bin', 'usr/lib']
    assert ('/lib64', '/lib64') in _binds(argv, '--ro-bind')
    assert _pairs(argv, '--remount-ro') == ['/dev', '/']
    assert _pairs(argv, '--chdir') == ['/work/src']
    assert _pairs(argv, '--proc') == ['/proc'] and _pairs(argv, '--dev') == ['/dev']


def test_tmp_and_dev_shm_are_size_limited_tmpfs_writable_by_all():
    argv = _argv(_job(tmp_size_mb=16))
    for dest in ('/tmp', '/dev/shm'):
        i = argv.index(dest, argv.index('--dev'))
        assert argv[i - 5:i] == ['--perms', '1777', '--size', str(16 * 1024 * 1024),
                                 '--tmpfs']


def test_limits_become_prlimit_flags_and_cgroups_replace_as_and_nproc():
    with_cgroup = _inner(_argv(_job()))
    assert '--cpu=30:31' in with_cgroup
    assert '--fsize=%d' % (10 * 1024 * 1024) in with_cgroup
    assert '--nofile=512' in with_cgroup and '--core=0' in with_cgroup
    assert not [a for a in with_cgroup if a.startswith(('--as=', '--nproc='))]
    rlimits = _inner(_argv(_job(), cgroup_procs=()))
    assert '--as=%d' % (256 * 1024 * 1024) in rlimits and '--nproc=64' in rlimits


def test_zero_means_no_limit():
    inner = _inner(_argv(_job(cpu_seconds=0, memory_mb=0, max_processes=0,
                              max_file_size_mb=0), cgroup_procs=()))
    assert not [a for a in inner if a.startswith(('--cpu', '--as', '--nproc', '--fsize'))]


def test_network_is_shared_or_cut():
    assert '--unshare-net' in _argv(_job(network=False))
    assert '--unshare-net' not in _argv(_job(network=True))


def test_hidden_paths_are_masked_and_status_and_identity_fds_are_passed():
    argv = _argv(_job(), hidden=[('/etc/solum-git', True), ('/etc/solum.conf', False)],
                 passwd_fd=9, group_fd=10)
    i = argv.index('/etc/solum-git')
    assert argv[i - 1] == '--tmpfs' and argv[i + 1:i + 3] == ['--remount-ro',
                                                              '/etc/solum-git']
    i = argv.index('/etc/solum.conf')
    assert argv[i - 2:i] == ['--ro-bind', '/dev/null']
    assert _pairs(argv, '--json-status-fd') == ['7']
    i = argv.index('/etc/passwd')
    assert argv[i - 4:i] == ['--perms', '0644', '--ro-bind-data', '9']


def test_with_cgroups_the_process_joins_them_before_it_becomes_bwrap():
    argv = _argv(_job())
    assert argv[:3] == ['/bin/sh', '-c', bwrap.JOIN_CGROUPS]
    assert argv[3:7] == ['join-cgroups', '2'] + CGROUPS
    assert argv[7] == '/usr/bin/bwrap'
    assert _argv(_job(), cgroup_procs=())[0] == '/usr/bin/bwrap'


def test_parents_of_a_deep_read_only_path_are_made_traversable():
    argv = _argv(_job(), ro_paths=['/usr', '/opt/tools/bin', '/opt/other'])
    assert _pairs(argv, '--dir') == ['/opt', '/opt/tools']
    i = argv.index('/opt/tools')
    assert argv[i - 3:i] == ['--perms', '0755', '--dir']
    assert argv.index('/opt/tools') < argv.index('/opt/tools/bin')


def test_root_entries_under_a_read_only_path_are_not_bound_twice():
    argv = _argv(_job(), ro_paths=['/usr', '/etc', '/lib64'])
    assert ('/lib64', '/lib64') not in _binds(argv, '--ro-bind')


def test_root_entries_follow_the_host(tmp_path):
    (tmp_path / 'usr' / 'bin').mkdir(parents=True)
    (tmp_path / 'bin').symlink_to('usr/bin')
    (tmp_path / 'lib64').mkdir()
    assert bwrap.root_entries(str(tmp_path)) == [
        ('--symlink', 'usr/bin', '/bin'), ('--ro-bind', str(tmp_path / 'lib64'), '/lib64')]


def test_the_sandbox_environment_points_home_and_tmp_inside():
    env = bwrap.sandbox_env(_job(), as_root=True)
    assert env['HOME'] == '/work/home' and env['TMPDIR'] == '/tmp'
    assert env['PWD'] == '/work/src' and env['USER'] == bwrap.USER
    assert env['PATH'] == base.SYSTEM_PATH and env['SOLUM_GIT_RUN'] == 'r1'


def test_bwrap_status_documents_are_read_one_after_another():
    text = ('{ "child-pid": 42, "mnt-namespace": 1 }\n{ "exit-code": 3 }\n')
    assert bwrap._status_docs(text) == [{'child-pid': 42, 'mnt-namespace': 1},
                                        {'exit-code': 3}]
    assert bwrap._status_docs('{ "child-pid": 42') == []


def test_default_limits_are_set_and_sane():
    conf = conf_pkg.new()
    conf([], project='solum-git', default_config_files=[])
    opts = conf.sandbox
    assert opts.driver == 'bwrap' and opts.test_network is True
    limits = base.Limits.from_conf(opts)
    assert 60 <= limits.cpu_seconds <= conf.pipelines.run_timeout
    assert 1024 <= limits.memory_mb <= 8192
    assert 128 <= limits.max_processes <= 4096
    assert 256 <= limits.max_file_size_mb <= limits.max_disk_mb <= 16384
    assert 1024 <= limits.max_open_files <= 65536
    assert 64 <= limits.tmp_size_mb <= limits.memory_mb
    # an app runs for good: no CPU time limit unless the operator sets one
    assert base.Limits.from_conf(opts, app=True).cpu_seconds == 0
    assert opts.uid_min > 600100000, 'above login.defs SUB_UID_MAX'
    assert opts.uid_max < 2 ** 31, 'tools that take uids as signed 32-bit'


def test_sandbox_uids_skip_what_the_host_uses(tmp_path):
    assert sandbox_uids.used_by_host(0, [])
    assert sandbox_uids.used_by_host(os.geteuid(), [])
    assert sandbox_uids.used_by_host(1900000500, [(1900000000, 1000)])
    assert not sandbox_uids.used_by_host(1900001000, [(1900000000, 1000)])
    subuid = tmp_path / 'subuid'
    subuid.write_text('dev:100000:65536\n# comment\nbad line\nci:1900000000:10\n')
    assert sandbox_uids.subordinate_ranges([str(subuid)]) == [(100000, 65536),
                                                              (1900000000, 10)]


def test_disk_usage_counts_blocks_and_every_entry(tmp_path):
    (tmp_path / 'a').mkdir()
    for i in range(10):
        (tmp_path / 'a' / str(i)).write_text('')
    (tmp_path / 'big').write_bytes(b'x' * 1024 * 1024)
    os.symlink('/usr', str(tmp_path / 'link'))  # never followed
    used = disk.usage(str(tmp_path))
    assert 1024 * 1024 + 12 * disk.MIN_ENTRY <= used < 1024 * 1024 + 20 * disk.MIN_ENTRY


def test_the_disk_meter_measures_only_when_due(tmp_path):
    meter = disk.Meter(str(tmp_path), 100 * 1024, interval=60)
    assert meter.over() is False, 'the first measure is at once'
    (tmp_path / 'big').write_bytes(b'x' * 1024 * 1024)
    assert meter.over() is False, 'not due yet'
    meter._next = 0
    assert meter.over() is True and meter.used >= 1024 * 1024
    assert disk.Meter(str(tmp_path), 0, 0.1).over() is False, '0 is no limit'


@pytest.mark.parametrize('code, hint', [(152, 'cpu_seconds'), (153, 'max_file_size_mb'),
                                        (137, 'SIGKILL')])
def test_exit_codes_of_limits_are_explained(code, hint):
    from solum_git.pipelines import local
    assert hint in local._signal_hint(code)
    assert local._signal_hint(1) == ''
