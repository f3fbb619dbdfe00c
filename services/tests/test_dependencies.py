"""Every dependency of every service's routes is a coroutine: FastAPI runs a plain ``def`` dependency in its thread
pool, a thread hop on every request (a registration's profile showed 17% of its time there, for returning
``app.state`` attributes)."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from onesource.mesh.services import SERVICES, ServiceSpec


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


def _route_calls(routes: list[Any]) -> Iterator[Callable[..., Any]]:
    """Every dependency of every API route, through included routers (and their own dependencies) too."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield from _calls(route.dependant)
        included = getattr(route, "include_context", None)
        if included is not None:
            yield from (depends.dependency for depends in included.dependencies if depends.dependency is not None)
            yield from (depends.dependency for depends in route.original_router.dependencies if depends.dependency)
            yield from _route_calls(route.original_router.routes)


def _awaited(call: Callable[..., Any]) -> bool:
    target = call if inspect.isfunction(call) or inspect.ismethod(call) else type(call).__call__
    return inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target)


@pytest.mark.parametrize("spec", SERVICES, ids=lambda spec: spec.name)
def test_no_dependency_runs_in_the_thread_pool(spec: ServiceSpec, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONESOURCE_ENVIRONMENT", "test")
    module, _, factory = spec.app_factory.partition(":")
    app = getattr(importlib.import_module(module), factory)()
    calls = list(_route_calls(app.routes))
    assert len(calls) > 10  # the walk reached the routes
    threaded = {getattr(call, "__qualname__", repr(call)) for call in calls if not _awaited(call)}
    assert threaded == set()
