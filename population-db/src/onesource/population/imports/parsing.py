"""Moved to the registry core: :mod:`onesource.registry.imports.parsing` (every registry's imports read files alike).

This name stays bound to that very module (not a copy), so code and tests that import it from here, or patch it
here, keep working.
"""

import sys

from onesource.registry.imports import parsing

sys.modules[__name__] = parsing
