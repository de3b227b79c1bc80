"""`python -m checklist_app`: the same as the `checklist-app` command."""

import sys

from checklist_app.cli import main

sys.exit(main())
