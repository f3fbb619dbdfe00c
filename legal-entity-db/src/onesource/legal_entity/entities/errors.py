"""Errors of the entities domain."""

from __future__ import annotations

from onesource.kit.errors import Conflict, NotFound
from onesource.registry.rules import InvalidRecord


class InvalidEntity(InvalidRecord):
    """The record breaks a registry rule (422); ``invalid_params`` names each field and why."""

    type = "invalid-entity"
    title = "Invalid entity record"


class DuplicateEntity(Conflict):
    """An entity with this USCC is already registered (409)."""

    type = "duplicate-entity"
    title = "Entity already registered"


class EntityNotFound(NotFound):
    """No entity has this USCC (404)."""

    type = "entity-not-found"
    title = "Entity not found"


class InvalidStatusTransition(Conflict):
    """The lifecycle does not lead from the entity's status to the one asked for (409)."""

    type = "invalid-status-transition"
    title = "Invalid status transition"


class EntityClosed(Conflict):
    """The entity is deregistered, cancelled or moved out: its record no longer changes (409)."""

    type = "entity-closed"
    title = "Entity closed"
