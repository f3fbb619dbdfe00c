"""Whether a legal representative is a registered, living person: population-db's answer, through the gateway.

One datum, one source: the person's record stays in population-db. The registry asks for it like any department,
with its own client under its department's grant on ``population.person`` and a stated purpose (so every check is
audited), and keeps nothing of the answer. It refuses (422, naming ``legal_representative_id``) only on a clear
answer — the person is not registered, or is deceased — and answers 503 ``dependency-unavailable`` whenever it cannot
know: the gateway or population down or slow, no grant yet, a grant without ``deceased``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request

from onesource.legal_entity.settings import Settings
from onesource.registry.platform import DependencyUnavailable, PlatformClient

#: The field naming the representative, in refusals.
FIELD = "legal_representative_id"


@dataclass(frozen=True)
class Verdict:
    """Population-db's answer about one person: ``None`` when they may represent an entity, else why not."""

    problem: str | None


class RepresentativeCheck:
    """Asks population-db, through the gateway, whether persons are registered and alive."""

    def __init__(self, platform: PlatformClient, persons_path: str, purpose: str) -> None:
        self.platform = platform
        self.persons_path = persons_path
        self.purpose = purpose

    @classmethod
    def of(cls, platform: PlatformClient, settings: Settings) -> RepresentativeCheck:
        """The check as the registry's settings configure it."""
        return cls(platform, settings.persons_path, settings.representative_check_purpose)

    async def verdict(self, id_number: str) -> Verdict:
        """Population-db's answer about ``id_number`` (a well-formed citizen ID); 503 when there is none to rely on."""
        answer = await self.platform.read(f"{self.persons_path}/{quote(id_number, safe='')}", purpose=self.purpose)
        if answer.status == 404 and answer.problem == "record-not-found":
            return Verdict(f"no person with ID number {id_number} is registered in the population registry")
        if answer.status != 200 or not isinstance(answer.body, dict):
            raise DependencyUnavailable(
                f"the population registry's answer about the legal representative was HTTP {answer.status} "
                f"({answer.problem or 'no problem type'}); cannot tell whether the person is registered and alive"
            )
        deceased = answer.body.get("deceased")
        if not isinstance(deceased, bool):
            raise DependencyUnavailable(
                "the population registry's answer does not say whether the person is alive (is `deceased` granted?)"
            )
        if deceased:
            return Verdict(f"the person with ID number {id_number} is registered as deceased")
        return Verdict(None)


async def _check(request: Request) -> RepresentativeCheck:
    check: RepresentativeCheck = request.app.state.representative_check
    return check


RepresentativeCheckDep = Annotated[RepresentativeCheck, Depends(_check)]
"""The app's representative check."""
