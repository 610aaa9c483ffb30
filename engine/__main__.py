"""``python -m track2view.engine`` is ``t2v``."""

import sys

from .cli import main

sys.exit(main())
