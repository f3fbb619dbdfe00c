"""Active grants in memory, by department and resource: what a data call checks instead of asking a database."""

from __future__ import annotations

from collections.abc import Iterable

from onesource.gateway.grants.schemas import Grant


class GrantIndex:
    """Active grants by (department, resource); a grant past ``valid_until`` is skipped before it is dropped."""

    def __init__(self, grants: Iterable[Grant] = ()) -> None:
        self._by_id: dict[str, Grant] = {}
        self._by_holder: dict[tuple[str, str], dict[str, Grant]] = {}
        self.replace(grants)

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, grant_id: str) -> Grant | None:
        """The active grant ``grant_id``."""
        return self._by_id.get(grant_id)

    def replace(self, grants: Iterable[Grant]) -> None:
        """Hold exactly ``grants`` from now on."""
        by_id = {grant.id: grant for grant in grants}
        by_holder: dict[tuple[str, str], dict[str, Grant]] = {}
        for grant in by_id.values():
            by_holder.setdefault((grant.department, grant.resource), {})[grant.id] = grant
        self._by_id, self._by_holder = by_id, by_holder

    def put(self, grant_id: str, grant: Grant | None) -> None:
        """Hold ``grant`` as ``grant_id`` (``None``: it is revoked, expired or unknown)."""
        previous = self._by_id.pop(grant_id, None)
        if previous is not None:
            holder = (previous.department, previous.resource)
            held = self._by_holder.get(holder)
            if held is not None:
                held.pop(grant_id, None)
                if not held:
                    del self._by_holder[holder]
        if grant is not None:
            self._by_id[grant_id] = grant
            self._by_holder.setdefault((grant.department, grant.resource), {})[grant_id] = grant

    def in_force(self, department: str, resources: Iterable[str], now: float) -> list[Grant]:
        """The department's grants on any of ``resources`` that allow reading at ``now``."""
        found: list[Grant] = []
        for resource in resources:
            held = self._by_holder.get((department, resource))
            if held:
                found.extend(grant for grant in held.values() if grant.in_force(now))
        return found

    def resources_of(self, department: str) -> set[str]:
        """The resources the department holds active grants on (for the catalog fallback)."""
        return {resource for holder, resource in self._by_holder if holder == department}
