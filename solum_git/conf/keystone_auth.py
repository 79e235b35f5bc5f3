"""The Keystone credentials of a group that talks to an OpenStack service.

[heat], [backup_swift] and [solum] each carry keystoneauth1's session and
auth options, registered and listed in the sample the same way.
"""
import copy

from keystoneauth1 import loading as ks_loading


def register(conf, group):
    ks_loading.register_session_conf_options(conf, group)
    ks_loading.register_auth_conf_options(conf, group)


def sample_opts():
    """Session, auth and password-plugin options for the sample (keystoneauth
    registers a plugin's options only when it loads the plugin)."""
    password = []
    for opt in ks_loading.get_auth_plugin_conf_options('password'):
        opt = copy.copy(opt)
        opt.required = False  # only needed when auth_type = password
        password.append(opt)
    return (ks_loading.get_session_conf_options()
            + ks_loading.get_auth_common_conf_options() + password)
