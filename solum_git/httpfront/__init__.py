"""What runs on a git server beside sshd: the smart HTTP front (stdlib only)."""
