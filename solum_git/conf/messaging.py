"""[messaging]: how a change reaches the engines and what the world is told.

``[DEFAULT] transport_url`` and ``[oslo_messaging_notifications]`` are
oslo.messaging's own options (registered by ``register_opts`` below).
"""
from oslo_config import cfg

from solum_git import messaging
from solum_git.messaging import oslo_messaging

GROUP = 'messaging'

opts = [
    cfg.StrOpt('engine_topic', default='solum-git-engine',
               help='The RPC topic the engines listen on. Every engine also '
                    'listens on <topic>.<its engine id> (the owner of a stack '
                    'can be sent to directly). Casts are sent only when '
                    '[DEFAULT] transport_url is set.'),
    cfg.IntOpt('send_retries', default=1, min=0,
               help='Connection retries for one cast or notification before it '
                    'is dropped (the database has the change; the engines\' '
                    'poll finds it). Sending happens off the request thread.'),
    cfg.IntOpt('queue_size', default=1000, min=1,
               help='Casts and notifications a process keeps while the message '
                    'bus is slow or down; past that new ones are dropped '
                    '(logged).'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)
    # transport_url, control_exchange, [oslo_messaging_notifications] ...
    oslo_messaging.set_transport_defaults('solum-git')
    for group, group_opts in oslo_messaging.opts.list_opts():
        conf.register_opts(group_opts, group=group)
    for group, group_opts in messaging.EXTRA_OPTS:
        conf.register_opts(group_opts, group=group)
    # oslo.messaging's own default is rabbit:// (localhost): here no bus is used
    # unless the operator names one
    conf.set_default('transport_url', None)


def list_opts():
    return {GROUP: opts}
