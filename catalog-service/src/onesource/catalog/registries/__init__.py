"""Registries and their owners: which department's stewards may describe a registry in the catalog."""
