"""The programs solum-git runs on every git server (standard library only).

``main.py`` dispatches ``solum-git-server PROGRAM ARGS``: one module per
command family (``sync``, ``flush``, ``triggers``); ``names`` holds the
repo-name and branch rules the API uses too. ``package`` builds what is
shipped to a server (a zipapp of this package) and finds the bootstrap.
Nothing here may import outside the standard library: it runs on a server
that has only python3.
"""
