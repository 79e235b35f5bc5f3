from oslo_config import cfg

GROUP = 'api'

opts = [
    cfg.HostAddressOpt('host', default='127.0.0.1',
                       help='Address the API listens on.'),
    cfg.PortOpt('port', default=9778, help='Port the API listens on.'),
    cfg.StrOpt('auth_strategy', default='noauth',
               choices=[('noauth', 'trust X-Project-Id, X-User-Id and X-Roles '
                                   '(development only)'),
                        ('keystone', 'keystonemiddleware auth_token')],
               help='How API requests are authenticated.'),
    cfg.IntOpt('max_limit', default=1000, min=1,
               help='Largest page size a list request may ask for.'),
    cfg.IntOpt('default_limit', default=100, min=1,
               help='Page size of a list request that gives no limit.'),
    cfg.IntOpt('workers', default=1, min=1,
               help='Processes serving API requests (gunicorn workers). The '
                    'engine runs once whatever the number: in solum-git-api\'s '
                    'own process, never in a worker.'),
    cfg.IntOpt('threads', default=8, min=1,
               help='Threads of each worker process: requests one worker '
                    'serves at the same time.'),
    cfg.IntOpt('backlog', default=2048, min=1,
               help='Listen queue of the API socket: connections the kernel '
                    'holds while every thread is busy (capped by '
                    'net.core.somaxconn).'),
    cfg.IntOpt('keepalive', default=5, min=0,
               help='Seconds an idle HTTP/1.1 connection is kept open for its '
                    'next request (0: close after each answer).'),
    cfg.IntOpt('app_log_follow_seconds', default=60, min=1, max=3600,
               help='Longest a GET .../app-log?follow=1 streams before the API '
                    'ends it (the client asks again): a follower holds one of '
                    'the worker\'s threads while it lasts.'),
    cfg.IntOpt('app_log_followers', default=2, min=0,
               help='App logs one API worker process streams at the same time; '
                    'one more is answered 503 (threads stay free for the rest '
                    'of the API).'),
    cfg.StrOpt('public_url',
               help='Base URL clients reach the API at (used in "uri" '
                    'fields); default: from each request.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return {GROUP: opts}
