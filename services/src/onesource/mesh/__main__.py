"""``python -m onesource.mesh`` — the same as the ``onesource`` command."""

from onesource.mesh.cli import main

raise SystemExit(main())
