"""``python -m lambdasim``: the command line (see :mod:`lambdasim.cli`)."""

from lambdasim.cli import main

raise SystemExit(main())
