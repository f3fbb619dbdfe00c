"""The registry read model: which department owns each registry, kept from the catalog's ``registry.*`` events."""
