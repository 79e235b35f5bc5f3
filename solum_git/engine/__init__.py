"""The reconciler. ``worker_classes`` lists what an engine process runs."""


def worker_classes():
    # each issue's worker is added here as it lands (stacks, runs)
    from solum_git.engine import flush
    from solum_git.engine import runs
    from solum_git.engine import stacks
    return (stacks.StackWorker, runs.RunWorker, flush.FlushWorker)
