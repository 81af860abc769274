"""``python -m srlib`` is the ``srlib`` command."""

import sys

from .cli import main

sys.exit(main())
