"""A tiny service built only from the kit, so the kit's tests exercise it as a real service would."""
