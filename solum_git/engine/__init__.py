"""The reconciler. ``worker_classes`` lists what an engine process runs."""


from typing import Tuple


def worker_classes() -> Tuple[type, ...]:
    # each issue's worker is added here as it lands (stacks, runs)
    from solum_git.engine import backups
    from solum_git.engine import flush
    from solum_git.engine import runs
    from solum_git.engine import stacks
    return (stacks.StackWorker, runs.RunWorker, flush.FlushWorker, backups.BackupWorker)
