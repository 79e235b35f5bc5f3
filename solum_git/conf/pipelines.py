from oslo_config import cfg

GROUP = 'pipelines'

opts = [
    cfg.ListOpt('enabled', default=['local', 'webhook', 'solum'],
                help='Pipeline drivers (entry points in solum_git.pipelines) '
                     'this service runs; runs of other types end in ERROR. The '
                     'local runner executes tenants\' commands on this host, '
                     'in the sandbox of [sandbox] (docs/security.rst).'),
    cfg.IntOpt('workers', default=4, min=1,
               help='Runs one engine executes at the same time.'),
    cfg.IntOpt('max_attempts', default=3, min=1,
               help='Times a run is started again after its engine died '
                    'holding it, before it ends in ERROR.'),
    cfg.IntOpt('run_timeout', default=900, min=1,
               help='Seconds a local run\'s checkout and test_cmd may take.'),
    cfg.IntOpt('app_start_timeout', default=30, min=1,
               help='Seconds a freshly started run_cmd has to listen on $PORT.'),
    cfg.IntOpt('max_log_bytes', default=1024 * 1024, min=1024,
               help='Largest log kept per run; the rest is cut off.'),
    cfg.FloatOpt('log_sync_interval', default=1.0, min=0.1,
                 help='Seconds between copies of a running run\'s log to the '
                      'database (what GET .../runs/{uuid}/log shows).'),
    cfg.HostAddressOpt('app_host', default='127.0.0.1',
                       help='Host name in the app_url of a local run (the app '
                            'gets its port in $PORT).'),
    cfg.FloatOpt('app_check_interval', default=10.0, min=0.1,
                 help='Seconds between checks of the local apps: those of deleted '
                      'triggers are stopped, those not running after an engine '
                      'restart are started again.'),
    cfg.IntOpt('keep_runs', default=5, min=1,
               help='Work dirs kept per local trigger (the one serving the '
                    'app is always kept): the builds a rollback can serve '
                    'again, and the app logs GET .../runs/{uuid}/app-log shows.'),
    cfg.IntOpt('app_log_bytes', default=4 * 1024 * 1024, min=4096,
               help='Bytes of a local app\'s output kept in app.log; past that '
                    'it moves to app.log.1 (the one before is dropped) and a new '
                    'app.log starts.'),
    cfg.FloatOpt('webhook_timeout', default=10.0, min=0.1,
                 help='Seconds a webhook receiver has to answer.'),
    cfg.IntOpt('retry_max_attempts', default=6, min=1,
               help='Deliveries of one webhook or solum run before it ends in '
                    'FAILED (receiver down or answering 5xx).'),
    cfg.FloatOpt('retry_backoff', default=2.0, min=0.01,
                 help='Seconds before the first retry of a webhook or solum '
                      'delivery; doubled after each failed attempt.'),
    cfg.FloatOpt('retry_backoff_max', default=300.0, min=0.01,
                 help='Longest wait between two delivery attempts.'),
    cfg.BoolOpt('webhook_allow_private', default=False,
                help='Allow webhook URLs that resolve to loopback, private, '
                     'link-local or other non-public addresses (off: a tenant '
                     'cannot make the service call its own host or networks; '
                     'checked when a trigger is made and at each delivery).'),
    cfg.IntOpt('flush_interval', default=300, min=1,
               help='Seconds between requests to every git server to deliver '
                    'the push events it spooled while the API was down (also '
                    'done once when the engine starts).'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return {GROUP: opts}
