"""Errors of share requests."""

from __future__ import annotations

from onesource.kit.errors import Conflict, Forbidden, NotFound, ServiceError


class ShareRequestNotFound(NotFound):
    """No share request has this id (404)."""

    type = "share-request-not-found"
    title = "Share request not found"


class UnknownFields(ServiceError):
    """The request names fields the resource does not have (422)."""

    status = 422
    type = "unknown-fields"
    title = "Unknown fields"

    def __init__(self, detail: str, *, location: str, fields: list[str]) -> None:
        super().__init__(
            detail,
            unknown_fields=fields,
            invalid_params=[{"name": location, "reason": f"not a field of the resource: {name}"} for name in fields],
        )


class FieldsNotRequested(ServiceError):
    """A decision grants fields that were never requested (422)."""

    status = 422
    type = "fields-not-requested"
    title = "Fields not requested"

    def __init__(self, detail: str, *, fields: list[str]) -> None:
        super().__init__(
            detail,
            invalid_params=[{"name": "body.fields", "reason": f"not requested: {name}"} for name in fields],
        )


class ReasonRequired(ServiceError):
    """A rejection, dispute or mediation must say why (422)."""

    status = 422
    type = "reason-required"
    title = "Reason required"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, invalid_params=[{"name": "body.reason", "reason": "required"}])


class DurationTooLong(ServiceError):
    """The requested duration exceeds what grants may last (422)."""

    status = 422
    type = "duration-too-long"
    title = "Duration too long"


class InvalidTransition(Conflict):
    """The share request is not in a state that allows this step (409)."""

    type = "invalid-transition"
    title = "Not allowed in the current state"


class NotTheProvider(Forbidden):
    """Only stewards of the resource's provider decide on its share requests (403)."""

    type = "not-the-provider"
    title = "Not the provider's steward"


class NotTheConsumer(Forbidden):
    """Only the requesting department may act on its own request (403)."""

    type = "not-the-consumer"
    title = "Not the requesting department"
