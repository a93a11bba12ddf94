"""``python -m gettcommerce ...``: the same as the ``gett`` command."""
import sys

from .cli import main

sys.exit(main())
