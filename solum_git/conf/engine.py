from oslo_config import cfg

GROUP = 'engine'

opts = [
    cfg.BoolOpt('in_process', default=True,
                help='Run the engine inside solum-git-api. Set false when '
                     'solum-git-engine processes run separately.'),
    cfg.FloatOpt('poll_interval', default=10.0, min=0.01,
                 help='Seconds between looks for pending work: the safety net. '
                      'A change reaches the engine at once by a cast '
                      '([DEFAULT] transport_url) or, from the API\'s workers to '
                      'the engine in their process, by a pipe; work the engine '
                      'knows is due sooner (a retry, a server being built) '
                      'wakes it sooner.'),
    cfg.IntOpt('resync_interval', default=60, min=1,
               help='Seconds between drift checks of each stack.'),
    cfg.IntOpt('stack_threads', default=4, min=1,
               help='Stacks one engine converges at the same time.'),
    cfg.IntOpt('lease_seconds', default=120, min=5,
               help='How long an engine holds a claim on a stack before '
                    'another engine may take it over.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return {GROUP: opts}
