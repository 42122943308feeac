"""Entry point of the frozen app: the window by default, any `organizer` command otherwise."""

import sys

from organizer.cli import main

if __name__ == "__main__":
    sys.exit(main())
