"""Errors of subscriptions."""

from __future__ import annotations

from onesource.kit.errors import Conflict, Forbidden, NotFound


class SubscriptionNotFound(NotFound):
    """No subscription has this id (404)."""

    type = "subscription-not-found"
    title = "Subscription not found"


class NoActiveGrant(Forbidden):
    """The department holds no active grant on the resource (403)."""

    type = "no-active-grant"
    title = "No active grant"


class DuplicateSubscription(Conflict):
    """The department already has an active Kafka subscription to the resource (409)."""

    type = "duplicate-subscription"
    title = "Subscription already exists"


class SubscriptionCancelled(Conflict):
    """The subscription is already cancelled (409)."""

    type = "subscription-cancelled"
    title = "Subscription cancelled"
