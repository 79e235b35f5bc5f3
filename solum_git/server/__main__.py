import sys

from solum_git.server import main

sys.exit(main.main())
