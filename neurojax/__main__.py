"""`python -m neurojax` is the `neurojax` command."""

import sys

from ._cli import main

sys.exit(main())
