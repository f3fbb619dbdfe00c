"""The registries the fault workload drives, each as a small description: where its records are, what key names them,
what a write of each kind sends and sets, which events it causes, what the grantee is granted, where it publishes.

The workload's write lifecycle, the run's set-up and the checker are written once over these descriptions. Geo is driven
by two profiles, its parcels and its addresses (GeoJSON Features with polygons and points, shared on conditions: the
run's grants are approved and confirmed);
geo's first start publishes thousands of division events, and the run's set-up waits until the projector has worked
through every source topic it follows before the workload and the nemesis start. Macroeconomy's loads are vintages
rather than records with versions: it is described by :class:`Loads`, a second kind of description with the same
names for what the set-up, the nemesis and the shared checks read (``Described``).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

from onesource.legal_entity.demo import EntityFactory
from onesource.legal_entity.entities.rules import FINAL, EntityStatus, adult_on
from onesource.population.demo import PersonFactory
from onesource.standards.citizen_id import embedded_birth_date

#: Writes to one record at most (a person's rename keeps the old name among at most ten former names).
MAX_WRITES = 9
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰"


def new_marker(kind: str = "路") -> str:
    """A value unique to one write, so the event it causes names it."""
    return f"故障测试{kind}{uuid.uuid4().hex[:12]}号"


@dataclass(frozen=True)
class Move:
    """One write call of a record's lifecycle."""

    kind: str
    """The event verb it causes: ``registered``, ``updated`` or the registry's lifecycle verb."""
    method: str
    path: str
    """Below the gateway."""
    body: dict[str, Any]
    marker: str
    """The value unique to this write that its event carries (in the field ``Profile.markers`` names)."""
    sets: dict[str, Any]
    """What the record's row holds after it (fields the checker compares; dates as ISO strings)."""
    final: bool = False
    """After it the record takes no more writes (a death, a deregistration)."""


#: Makes a new record to write, given the living adults so far (``None``: it cannot yet).
RecordMaker = Callable[[Sequence[str]], "Lifecycle | None"]


class Lifecycle(Protocol):
    """One record the workload writes: its registration, its updates, then its lifecycle calls in order."""

    key: str

    def register(self, marker: str) -> Move: ...

    def update(self, marker: str, rng: random.Random) -> Move: ...

    def transition(self, step: int, sequence: int) -> Move | None:
        """The ``step``-th lifecycle call (``sequence``: its place among the record's writes); ``None``: done."""
        ...


@dataclass(frozen=True)
class Profile:
    """A registry as the fault suite drives and checks it."""

    name: str
    """The mesh's service name (what the nemesis kills, what the gateway routes by), unless ``service`` says it."""
    resource: str
    """The catalog resource the grantee is granted (unconditional, or approved and confirmed in the set-up)."""
    granted: tuple[str, ...]
    purpose: str
    legal_basis: str
    collection: str
    """The records' collection below the gateway."""
    key: str
    topic: str
    event_type: str
    """The CloudEvents type with ``{}`` for the verb."""
    kinds: tuple[str, ...]
    markers: dict[str, str]
    """Per event verb, the record field its write's marker is in."""
    owner: str
    """The owning department: its ``<owner>-registrar`` writes."""
    database: str
    table: str
    columns: tuple[str, ...]
    """The row's columns the checker compares with the writes' ``sets`` (besides ``version``)."""
    records: Callable[[random.Random], RecordMaker]
    """One writer's maker of new records, seeded from the writer's generator."""
    writers: int = 2
    readers: int = 1
    gives_representatives: bool = False
    """Its records are persons: those left alive may represent entities."""
    features: bool = False
    """Its answers are GeoJSON Features (RFC 7946): the fields shown are the properties and a non-null ``geometry``,
    and every geometry the checker sees must be valid GeoJSON; the ``geometry`` column is compared as GeoJSON."""
    postgis: bool = False
    """Its database is on the mesh's PostgreSQL with PostGIS (geo's server), not on the one of the others."""
    service: str = ""
    """The mesh's service, when another profile drives it too (geo's parcels and addresses); ``name`` otherwise."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "service", self.service or self.name)

    def record_path(self, key: str) -> str:
        return f"{self.collection}/{key}"


# --- population ------------------------------------------------------------------------------------------------

PERSONS = "/api/population/v1/persons"


@dataclass
class PersonLifecycle:
    person: dict[str, Any]
    dies: bool
    key: str = ""

    def __post_init__(self) -> None:
        self.key = str(self.person["id_number"])

    def register(self, marker: str) -> Move:
        body = {**self.person, "household_address": marker}
        sets = {"household_address": marker, "name": body["name"], "deceased": False, "death_date": None}
        return Move("registered", "POST", PERSONS, body, marker, sets)

    def update(self, marker: str, rng: random.Random) -> Move:
        name = self.person["name"][0] + rng.choice(GIVEN) + rng.choice(GIVEN)
        body = {"name": name, "household_address": marker}
        return Move("updated", "PATCH", f"{PERSONS}/{self.key}", body, marker, dict(body))

    def transition(self, step: int, sequence: int) -> Move | None:
        if step > 0 or not self.dies:
            return None
        # A death sets no address: its date, unique among the record's death calls, names its event.
        day = (date(2025, 1, 1) + timedelta(days=sequence)).isoformat()
        return Move(
            "deceased", "POST", f"{PERSONS}/{self.key}/death", {"death_date": day}, day,
            {"deceased": True, "death_date": day}, final=True,
        )  # fmt: skip


def _persons(rng: random.Random) -> RecordMaker:
    factory = PersonFactory(seed=rng.randrange(2**32))  # one per writer: it never repeats an ID number

    def person(living: Sequence[str]) -> Lifecycle:
        made = factory.person()
        made.pop("death_date", None)
        return PersonLifecycle(made, dies=rng.random() < 0.4)

    return person


def representative(id_number: str) -> bool:
    """Whether a living person may represent an entity (an adult: 民法典 第十七条)."""
    born = embedded_birth_date(id_number)
    return born is not None and adult_on(born, date.today())


POPULATION = Profile(
    name="population",
    resource="population.person",
    granted=("id_number", "name", "sex"),
    purpose="最低生活保障资格审核",
    legal_basis="《社会救助暂行办法》第十一条",
    collection=PERSONS,
    key="id_number",
    topic="onesource.population.person.v1",
    event_type="gov.onesource.population.person.{}.v1",
    kinds=("registered", "updated", "deceased"),
    markers={"registered": "household_address", "updated": "household_address", "deceased": "death_date"},
    owner="psb",
    database="onesource_population",
    table="person",
    columns=("household_address", "name", "deceased", "death_date"),
    records=_persons,
    gives_representatives=True,
)

# --- legal entities --------------------------------------------------------------------------------------------

ENTITIES = "/api/legal-entity/v1/entities"
#: Status paths an entity takes after its updates, each a walk the lifecycle allows (DESIGN.md, legal-entity-db).
STATUS_PATHS: tuple[tuple[EntityStatus, ...], ...] = (
    (),
    (EntityStatus.SUSPENDED,),
    (EntityStatus.SUSPENDED, EntityStatus.ACTIVE),
    (EntityStatus.SUSPENDED, EntityStatus.DEREGISTERED),
    (EntityStatus.REVOKED, EntityStatus.DEREGISTERED),
    (EntityStatus.DEREGISTERED,),
)


@dataclass
class EntityLifecycle:
    entity: dict[str, Any]
    statuses: tuple[EntityStatus, ...]
    key: str = ""

    def __post_init__(self) -> None:
        self.key = str(self.entity["uscc"])

    def register(self, marker: str) -> Move:
        body = {**self.entity, "address": marker}
        return Move("registered", "POST", ENTITIES, body, marker, {"address": marker, "status": "active"})

    def update(self, marker: str, rng: random.Random) -> Move:
        # The scope is not granted: the delivered change must come masked to the address alone.
        body = {"address": marker, "business_scope": f"故障测试经营范围 {marker}"}
        return Move("updated", "PATCH", f"{ENTITIES}/{self.key}", body, marker, {"address": marker})

    def transition(self, step: int, sequence: int) -> Move | None:
        if step >= len(self.statuses):
            return None
        status = self.statuses[step]
        marker = new_marker("决定")
        body = {"status": status.value, "reason": marker, "effective_on": self.entity["established_on"]}
        return Move(
            "status-changed", "POST", f"{ENTITIES}/{self.key}/status", body, marker,
            {"status": status.value, "status_reason": marker}, final=status in FINAL,
        )  # fmt: skip


def _entities(rng: random.Random) -> RecordMaker:
    seed = rng.randrange(2**32)
    factories: list[EntityFactory] = []  # one per writer (it never repeats a USCC), made once someone lives

    def entity(living: Sequence[str]) -> Lifecycle | None:
        if not living:
            return None  # no person is known to be alive yet: nobody may represent an entity
        if not factories:
            factories.append(EntityFactory(seed, living))
        made = factories[0].entity()
        made["legal_representative_id"] = rng.choice(living)  # any of the living so far, not those of the start
        return EntityLifecycle(made, rng.choice(STATUS_PATHS))

    return entity


LEGAL_ENTITY = Profile(
    name="legal-entity",
    resource="legal-entity.entity",
    granted=("uscc", "name", "status", "address"),
    purpose="最低生活保障资格审核",
    legal_basis="《社会救助暂行办法》第十一条",
    collection=ENTITIES,
    key="uscc",
    topic="onesource.legal-entity.entity.v1",
    event_type="gov.onesource.legal-entity.entity.{}.v1",
    kinds=("registered", "updated", "status-changed"),
    markers={"registered": "address", "updated": "address", "status-changed": "status_reason"},
    owner="amr",
    database="onesource_legal_entity",
    table="entity",
    columns=("address", "status", "status_reason"),
    records=_entities,
)

# --- geo: parcels --------------------------------------------------------------------------------------------

PARCELS = "/api/geo/v1/parcels"
#: 北京市丰台区: a county that exists today, the first six digits of every parcel code (GB/T 37346-2019).
COUNTY = "110106"
#: GB/T 21010-2017 second-level classes a parcel may be put to.
LAND_USES = ("0101", "0201", "0301", "0501", "0601", "0701", "0702", "0801", "1001")


def _ring(west: float, south: float, east: float, north: float, *, clockwise: bool) -> list[list[float]]:
    """A closed rectangular linear ring, its first position the south-west corner."""
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return ring[::-1] if clockwise else ring


def boundary(rng: random.Random) -> tuple[dict[str, Any], dict[str, Any]]:
    """A rectangular parcel somewhere in 丰台区, sometimes with a courtyard (a hole): the polygon as sent, each ring
    in either orientation, and as the registry must store and answer it — the exterior counterclockwise, holes
    clockwise (RFC 7946 §3.1.6, the right-hand rule)."""
    west, south = round(116.1 + rng.random() * 0.3, 6), round(39.8 + rng.random() * 0.05, 6)
    east, north = round(west + 0.0005 + rng.random() * 0.002, 6), round(south + 0.0005 + rng.random() * 0.002, 6)
    stored = [_ring(west, south, east, north, clockwise=False)]
    if rng.random() < 0.3:
        margin_x, margin_y = round((east - west) / 4, 6), round((north - south) / 4, 6)
        hole = (
            round(west + margin_x, 6),
            round(south + margin_y, 6),
            round(east - margin_x, 6),
            round(north - margin_y, 6),
        )
        stored.append(_ring(*hole, clockwise=True))
    sent = [ring[::-1] if rng.random() < 0.5 else ring for ring in stored]  # a reversed closed ring stays closed
    return {"type": "Polygon", "coordinates": sent}, {"type": "Polygon", "coordinates": stored}


@dataclass
class ParcelLifecycle:
    code: str
    land_use: str
    sent: dict[str, Any]
    """The boundary its registration sends."""
    stored: dict[str, Any]
    """That boundary as the registry must keep it."""
    retires: bool
    key: str = ""

    def __post_init__(self) -> None:
        self.key = self.code

    def register(self, marker: str) -> Move:
        properties = {"parcel_code": self.code, "land_use": self.land_use, "location_description": marker}
        body = {"type": "Feature", "geometry": self.sent, "properties": properties}
        sets = {
            "location_description": marker, "land_use": self.land_use, "geometry": self.stored, "status": "active",
            "retired_on": None, "retirement_reason": None,
        }  # fmt: skip
        return Move("registered", "POST", PARCELS, body, marker, sets)

    def update(self, marker: str, rng: random.Random) -> Move:
        # The land use is not granted: the delivered change must come masked without it.
        properties = {"location_description": marker, "land_use": rng.choice(LAND_USES)}
        body: dict[str, Any] = {"properties": properties}
        sets: dict[str, Any] = dict(properties)
        if rng.random() < 0.5:  # a new boundary (re-surveyed)
            body["geometry"], sets["geometry"] = boundary(rng)
        return Move("updated", "PATCH", f"{PARCELS}/{self.key}", body, marker, sets)

    def transition(self, step: int, sequence: int) -> Move | None:
        return retirement(PARCELS, self.key, sequence) if step == 0 and self.retires else None


def retirement(collection: str, key: str, sequence: int) -> Move:
    """A geo feature's retirement (its last write), dated ``sequence`` days into 2025 (never in the future)."""
    marker = new_marker("注销")
    day = (date(2025, 1, 1) + timedelta(days=sequence)).isoformat()
    body = {"retired_on": day, "reason": marker}
    sets = {"status": "retired", "retired_on": day, "retirement_reason": marker}
    return Move("retired", "POST", f"{collection}/{key}/retirement", body, marker, sets, final=True)


def _parcels(rng: random.Random) -> RecordMaker:
    def parcel(living: Sequence[str]) -> Lifecycle:
        # Cadastral district, sub-district and sequence drawn from 10^11 codes: two writers never meet.
        number = f"{rng.randrange(10**11):011d}"
        code = f"{COUNTY}{number[:6]}GB{number[6:]}"
        sent, stored = boundary(rng)
        return ParcelLifecycle(code, rng.choice(LAND_USES), sent, stored, retires=rng.random() < 0.4)

    return parcel


GEO = Profile(
    name="geo",
    resource="geo.parcel",
    # Not the land use, its name, the area, the county or the retirement date: masked out of answers and events.
    granted=("parcel_code", "location_description", "status", "retirement_reason", "geometry"),
    purpose="不动产登记信息核验",
    legal_basis="《不动产登记暂行条例》第二十七条",
    collection=PARCELS,
    key="parcel_code",
    topic="onesource.geo.parcel.v1",
    event_type="gov.onesource.geo.parcel.{}.v1",
    kinds=("registered", "updated", "retired"),
    markers={"registered": "location_description", "updated": "location_description", "retired": "retirement_reason"},
    owner="nrb",
    database="onesource_geo",
    table="parcel",
    columns=("location_description", "land_use", "status", "retired_on", "retirement_reason", "geometry"),
    records=_parcels,
    features=True,
    postgis=True,
)

# --- geo: addresses ------------------------------------------------------------------------------------------

ADDRESSES = "/api/geo/v1/addresses"


def point(rng: random.Random) -> dict[str, Any]:
    """A door's location somewhere in 丰台区 (a GeoJSON Point, CGCS2000)."""
    return {
        "type": "Point",
        "coordinates": [round(116.1 + rng.random() * 0.3, 6), round(39.8 + rng.random() * 0.05, 6)],
    }


@dataclass
class AddressLifecycle:
    code: str
    location: dict[str, Any]
    retires: bool
    key: str = ""

    def __post_init__(self) -> None:
        self.key = self.code

    def register(self, marker: str) -> Move:
        # The road names the write; a door number on it is the least GB/T 23705 asks below the town.
        properties = {"address_code": self.code, "town": "卢沟桥街道", "road": marker, "door_number": "1号"}
        body = {"type": "Feature", "geometry": self.location, "properties": properties}
        sets = {
            "road": marker, "door_number": "1号", "geometry": self.location, "status": "active", "retired_on": None,
            "retirement_reason": None,
        }  # fmt: skip
        return Move("registered", "POST", ADDRESSES, body, marker, sets)

    def update(self, marker: str, rng: random.Random) -> Move:
        # The door number is not granted: the delivered change must come masked without it.
        properties = {"road": marker, "door_number": f"{rng.randint(1, 999)}号"}
        body: dict[str, Any] = {"properties": properties}
        sets: dict[str, Any] = dict(properties)
        if rng.random() < 0.5:  # the door moved (renumbered streets are new addresses; this is a survey's fix)
            body["geometry"] = sets["geometry"] = point(rng)
        return Move("updated", "PATCH", f"{ADDRESSES}/{self.key}", body, marker, sets)

    def transition(self, step: int, sequence: int) -> Move | None:
        return retirement(ADDRESSES, self.key, sequence) if step == 0 and self.retires else None


def _addresses(rng: random.Random) -> RecordMaker:
    def address(living: Sequence[str]) -> Lifecycle:
        # Town (never 000), community and sequence drawn from 10^12 codes: two writers never meet.
        code = f"{COUNTY}{rng.randrange(1, 1000):03d}{rng.randrange(1000):03d}{rng.randrange(10**6):06d}"
        return AddressLifecycle(code, point(rng), retires=rng.random() < 0.4)

    return address


GEO_ADDRESS = Profile(
    name="geo-address",
    service="geo",
    resource="geo.address",
    # Not the town, the door number, the county or the retirement date: masked out of answers and events.
    granted=("address_code", "road", "full_address", "status", "retirement_reason", "geometry"),
    purpose="不动产登记信息核验",
    legal_basis="《不动产登记暂行条例》第二十七条",
    collection=ADDRESSES,
    key="address_code",
    topic="onesource.geo.address.v1",
    event_type="gov.onesource.geo.address.{}.v1",
    kinds=("registered", "updated", "retired"),
    markers={"registered": "road", "updated": "road", "retired": "retirement_reason"},
    owner="nrb",
    database="onesource_geo",
    table="address",
    columns=("road", "door_number", "status", "retired_on", "retirement_reason", "geometry"),
    records=_addresses,
    writers=1,
    features=True,
    postgis=True,
)

# --- macroeconomy: loads of vintages ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Loads:
    """A registry whose writes are loads: each makes a new vintage of a dataflow (never a new version of a record),
    released at once with one release event, and one revision event per series whose values it changed.

    What the set-up, the nemesis and the shared checks read has the names it has in :class:`Profile`.
    """

    name: str
    resource: str
    """The release calendar (unconditional): the grantee reads it and subscribes to it."""
    granted: tuple[str, ...]
    purpose: str
    legal_basis: str
    collection: str
    """The release calendar below the gateway (a list: ``?flow=``)."""
    key: str
    """The release calendar's record key (the vintage)."""
    topic: str
    """The release events' topic (keyed by dataflow)."""
    release_type: str
    revision_topic: str
    """The revision events' topic (keyed by ``<flow>:<series key>``)."""
    revision_type: str
    owner: str
    database: str
    flow: str
    """The dataflow loaded."""
    series: tuple[tuple[str, ...], ...]
    """The series keys (dimension values in key order) loads put observations in."""
    periods: tuple[str, ...]
    writers: int = 2
    readers: int = 1
    features: bool = False
    postgis: bool = False

    @property
    def service(self) -> str:
        """The mesh's service."""
        return self.name

    def load_path(self) -> str:
        return f"/api/{self.name}/v1/dataflows/{self.flow}/loads"


MACROECONOMY = Loads(
    name="macroeconomy",
    resource="macroeconomy.release-calendar",
    # Not the counts nor the load time: masked out of answers and events.
    granted=("flow", "vintage", "release_at", "status", "released_at"),
    purpose="宏观经济形势分析",
    legal_basis="《中华人民共和国统计法》第二十六条",
    collection="/api/macroeconomy/v1/releases",
    key="vintage",
    topic="onesource.macroeconomy.release.v1",
    release_type="gov.onesource.macroeconomy.release.published.v1",
    revision_topic="onesource.macroeconomy.revision.v1",
    revision_type="gov.onesource.macroeconomy.series.revised.v1",
    owner="stats",
    database="onesource_macroeconomy",
    flow="GDP_Q",
    series=tuple(
        ("Q", province, indicator, "CUR")
        for province in ("110000", "310000", "330000", "440000")
        for indicator in ("GDP", "VA_TERTIARY")
    ),
    periods=("2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4"),
)

#: A description of either kind.
Described = Profile | Loads

#: What the fault suite drives, in the order the workload starts them (persons first: entities need them).
PROFILES: tuple[Described, ...] = (POPULATION, LEGAL_ENTITY, GEO, GEO_ADDRESS, MACROECONOMY)
#: Each description by name (``python -m tests.faults --profiles``).
BY_NAME: dict[str, Described] = {profile.name: profile for profile in PROFILES}
