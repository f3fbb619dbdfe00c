"""Which published resources cover a data path: path templates compiled once per service into matchers.

A template is the registry's own path with ``{name}`` standing for one path segment (``/v1/persons/{id_number}``),
or ``{name:path}`` for the rest of the path. Paths are matched decoded, as the registry routes them: ``%2F`` in a
segment is a ``/`` to the registry, so it must be one to the gateway too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from onesource.gateway.resources.schemas import Resource

_VARIABLE = re.compile(r"\{([^{}:]+)(?::(path))?\}")


@dataclass(frozen=True, slots=True)
class PathTemplate:
    """One compiled template and the resources that name it."""

    pattern: re.Pattern[str]
    variables: tuple[str, ...]
    resources: tuple[Resource, ...]


def compile_template(template: str) -> tuple[re.Pattern[str], tuple[str, ...]]:
    """The anchored pattern of ``template`` and its variable names, in order."""
    parts: list[str] = []
    variables: list[str] = []
    position = 0
    for match in _VARIABLE.finditer(template):
        parts.append(re.escape(template[position : match.start()]))
        parts.append("(.+)" if match.group(2) else "([^/]+)")
        variables.append(match.group(1))
        position = match.end()
    parts.append(re.escape(template[position:]))
    return re.compile("".join(parts) + r"\Z"), tuple(variables)


@dataclass(frozen=True, slots=True)
class Coverage:
    """The resources covering one path, and the record key the path names (when a template names the key)."""

    resources: tuple[Resource, ...]
    """In id order."""
    requested_key: str | None


class ServiceMatcher:
    """The templates of one service's published resources, grouped by segment count so few are tried per path."""

    def __init__(self, resources: Iterable[Resource]) -> None:
        by_template: dict[str, list[Resource]] = {}
        for resource in resources:
            for template in dict.fromkeys(resource.paths):  # a resource naming a template twice covers once
                by_template.setdefault(template, []).append(resource)
        self._fixed: dict[int, list[PathTemplate]] = {}
        self._variable: list[PathTemplate] = []
        for template, named_by in by_template.items():
            pattern, variables = compile_template(template)
            compiled = PathTemplate(pattern, variables, tuple(named_by))
            if ":path}" in template:
                self._variable.append(compiled)
            else:
                self._fixed.setdefault(template.count("/"), []).append(compiled)

    @property
    def empty(self) -> bool:
        """Whether no template is left."""
        return not self._fixed and not self._variable

    def cover(self, path: str) -> Coverage | None:
        """The resources whose templates match ``path`` (each once), or ``None`` when none does."""
        found: dict[str, Resource] = {}
        requested_key: str | None = None
        for template in (*self._fixed.get(path.count("/"), ()), *self._variable):
            match = template.pattern.match(path)
            if match is None:
                continue
            for resource in template.resources:
                found.setdefault(resource.id, resource)
                if requested_key is None and resource.key in template.variables:
                    requested_key = match.group(template.variables.index(resource.key) + 1)
        if not found:
            return None
        # In id order, whatever order the resources were published in: audit entries name them alike.
        return Coverage(tuple(found[resource_id] for resource_id in sorted(found)), requested_key)


class ResourceIndex:
    """The published resources by id, each registry's owner, and one matcher per service.

    A resource covers paths only when its provider owns the registry it names (the catalog's registries, kept from
    its ``registry.assigned`` events): a resource of any other department on that registry is held but covers
    nothing, and a registry whose owner is not known has no covering resource at all (fail closed). A service's
    matcher is rebuilt when one of its resources or its owner changes (rare) and read on every data call (often).
    """

    def __init__(self, resources: Iterable[Resource] = (), owners: Mapping[str, str] | None = None) -> None:
        self._by_id: dict[str, Resource] = {}
        self._owners: dict[str, str] = {}
        self._matchers: dict[str, ServiceMatcher] = {}
        self.replace(resources, owners or {})

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, resource_id: str) -> Resource | None:
        """The published resource ``resource_id`` (whether or not it covers anything)."""
        return self._by_id.get(resource_id)

    def replace(self, resources: Iterable[Resource], owners: Mapping[str, str]) -> None:
        """Hold exactly ``resources`` and the registries' ``owners`` (service → department) from now on."""
        self._by_id = {resource.id: resource for resource in resources}
        self._owners = dict(owners)
        self._matchers = {}
        for service in {resource.service for resource in self._by_id.values()}:
            self._index(service)

    def put(self, resource_id: str, resource: Resource | None) -> None:
        """Hold ``resource`` as ``resource_id`` (``None``: it is no longer published)."""
        previous = self._by_id.pop(resource_id, None)
        if resource is not None:
            self._by_id[resource_id] = resource
        for service in {entry.service for entry in (previous, resource) if entry is not None}:
            self._index(service)

    def own(self, service: str, owner: str | None) -> None:
        """Record that department ``owner`` owns registry ``service`` (``None``: no owner is known)."""
        if owner is None:
            self._owners.pop(service, None)
        else:
            self._owners[service] = owner
        self._index(service)

    def _index(self, service: str) -> None:
        owner = self._owners.get(service)
        trusted = [
            resource for resource in self._by_id.values() if resource.service == service and resource.provider == owner
        ]
        matcher = ServiceMatcher(trusted)
        if matcher.empty:
            self._matchers.pop(service, None)
        else:
            self._matchers[service] = matcher

    def owner_of(self, service: str) -> str | None:
        """The department that owns registry ``service``, as the catalog says (``None``: not known)."""
        return self._owners.get(service)

    def cover(self, service: str, path: str) -> Coverage | None:
        """The published resources of ``service``'s owner covering ``path`` (decoded, starting with ``/``)."""
        matcher = self._matchers.get(service)
        return matcher.cover(path) if matcher is not None else None
