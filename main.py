"""`python main.py`: the same as the `checklist-app` command."""

import sys

from checklist_app.cli import main

if __name__ == "__main__":
    sys.exit(main())
