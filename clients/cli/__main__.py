import sys

from pushkin.clients.cli import main

sys.exit(main())
