"""Synthetic addresses and parcels in real counties, for the local mesh and the benchmarks: seeded, valid.

Each county below is a real GB/T 2260 county-level division with an approximate point inside it (its urban
centre, CGCS2000 longitude/latitude). Parcels are squares of a grid around that point, so they never overlap;
addresses are points in them, with GB/T 23705 levels. Nobody's real property.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

#: Real counties (GB/T 2260, current in 2024) and a point near each one's centre, (longitude, latitude).
COUNTIES: Final = {
    "110101": (116.4160, 39.9280),  # 北京市东城区
    "110105": (116.4860, 39.9480),  # 北京市朝阳区
    "310101": (121.4900, 31.2310),  # 上海市黄浦区
    "330106": (120.1300, 30.2590),  # 杭州市西湖区
    "420102": (114.3090, 30.6000),  # 武汉市江岸区
    "440305": (113.9300, 22.5330),  # 深圳市南山区
    "510104": (104.0830, 30.6570),  # 成都市锦江区
    "610102": (108.9600, 34.2660),  # 西安市新城区
}
TOWNS: Final = ("城关街道", "新华街道", "和平街道", "建设街道", "文化街道", "长江街道")
COMMUNITIES: Final = ("幸福社区", "光明社区", "团结社区", "东风社区", "阳光社区", "和谐社区")
ROADS: Final = ("人民路", "解放路", "中山路", "建设路", "和平路", "胜利街", "文化路", "新华街", "长江路", "黄河路")
#: GB/T 21010-2017 second-level classes common in towns.
LAND_USES: Final = ("0701", "0702", "0501", "0503", "0601", "0801", "0803", "1001", "1004", "0810")
#: Grid step between parcels and a parcel's side, in degrees (about 110 m and 80 m).
STEP: Final = 0.001
SIDE: Final = 0.0007


@dataclass(frozen=True)
class DemoBatch:
    """One bulk registration: which collection, and its features."""

    collection: str
    features: list[dict[str, Any]]


class GeoFactory:
    """Generates valid parcels and addresses deterministically from ``seed``; never the same code twice."""

    def __init__(self, seed: int = 0) -> None:
        self.random = random.Random(seed)
        self._cells: dict[str, int] = {}

    def _cell(self, county: str) -> tuple[int, float, float]:
        """The next free grid cell of a county: its number and its south-west corner."""
        number = self._cells.get(county, 0)
        self._cells[county] = number + 1
        longitude, latitude = COUNTIES[county]
        side = 40  # cells per row, spiralling out would be prettier; rows are enough
        column, row = number % side, number // side
        return number, longitude - 20 * STEP + column * STEP, latitude - 20 * STEP + row * STEP

    def parcel_and_address(self, county: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        """A parcel (a Feature as ``POST /v1/parcels`` takes it) and an address on it."""
        county = county or self.random.choice(list(COUNTIES))
        number, west, south = self._cell(county)
        ring = [[west, south], [west + SIDE, south], [west + SIDE, south + SIDE], [west, south + SIDE], [west, south]]
        ring = [[round(x, 7), round(y, 7)] for x, y in ring]
        town = number % len(TOWNS) + 1
        community = number // len(TOWNS) % len(COMMUNITIES) + 1
        road = self.random.choice(ROADS)
        door = self.random.randint(1, 400)
        parcel = {
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": {
                "parcel_code": f"{county}{town:03d}{community:03d}GB{number:05d}",
                "land_use": self.random.choice(LAND_USES),
                "location_description": f"{road}{door}号",
            },
        }
        address = {
            "type": "Feature",
            "geometry": {
                "type": "Point",
                "coordinates": [round(west + SIDE / 2, 7), round(south + SIDE / 2, 7)],
            },
            "properties": {
                "address_code": f"{county}{town:03d}{community:03d}{number:06d}",
                "town": TOWNS[town - 1],
                "community": COMMUNITIES[community - 1],
                "road": road,
                "door_number": f"{door}号",
                "building": f"{self.random.randint(1, 12)}号楼",
                "unit": f"{self.random.randint(1, 4)}单元",
                "room": f"{self.random.randint(1, 18)}{self.random.randint(1, 4):02d}室",
            },
        }
        return parcel, address

    def batches(self, count: int, per_batch: int) -> Iterator[DemoBatch]:
        """``count`` parcels and ``count`` addresses, as bulk registrations of at most ``per_batch`` features."""
        for start in range(0, count, per_batch):
            pairs = [self.parcel_and_address() for _ in range(min(per_batch, count - start))]
            yield DemoBatch("parcels", [parcel for parcel, _ in pairs])
            yield DemoBatch("addresses", [address for _, address in pairs])


def collection_body(batch: DemoBatch) -> bytes:
    """A bulk registration's body (``POST /v1/imports?collection=…``)."""
    return json.dumps({"type": "FeatureCollection", "features": batch.features}, ensure_ascii=False).encode()
