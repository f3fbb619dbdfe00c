"""Synthetic persons for the local mesh and the benchmarks: seeded, valid, and plausible-looking.

Every generated record passes the registry's rules (GB 11643 check character, embedded birth date, sex parity,
GB/T 2260 regions, standard codes). Names, regions and ages follow rough real-world frequencies; nobody real.
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from typing import Any, Final

from onesource.population.imports.schemas import IMPORT_COLUMNS
from onesource.standards.citizen_id import check_character

#: Real county-level divisions (GB/T 2260) with the city and district names used in addresses.
COUNTIES: Final = {
    "110101": "北京市东城区",
    "110102": "北京市西城区",
    "110105": "北京市朝阳区",
    "110108": "北京市海淀区",
    "120101": "天津市和平区",
    "130102": "石家庄市长安区",
    "140105": "太原市小店区",
    "150102": "呼和浩特市新城区",
    "210102": "沈阳市和平区",
    "220102": "长春市南关区",
    "230102": "哈尔滨市道里区",
    "310101": "上海市黄浦区",
    "310104": "上海市徐汇区",
    "310115": "上海市浦东新区",
    "320102": "南京市玄武区",
    "320508": "苏州市姑苏区",
    "330102": "杭州市上城区",
    "330106": "杭州市西湖区",
    "340102": "合肥市瑶海区",
    "350102": "福州市鼓楼区",
    "350203": "厦门市思明区",
    "360102": "南昌市东湖区",
    "370102": "济南市历下区",
    "370202": "青岛市市南区",
    "410102": "郑州市中原区",
    "420102": "武汉市江岸区",
    "430102": "长沙市芙蓉区",
    "440103": "广州市荔湾区",
    "440106": "广州市天河区",
    "440304": "深圳市福田区",
    "440305": "深圳市南山区",
    "450102": "南宁市兴宁区",
    "460105": "海口市秀英区",
    "500103": "重庆市渝中区",
    "510104": "成都市锦江区",
    "520102": "贵阳市南明区",
    "530102": "昆明市五华区",
    "540102": "拉萨市城关区",
    "610102": "西安市新城区",
    "620102": "兰州市城关区",
    "630102": "西宁市城东区",
    "640104": "银川市兴庆区",
    "650102": "乌鲁木齐市天山区",
}
#: Common surnames, most frequent first (weights fall off with rank, as they do in the census).
SURNAMES: Final = (
    "王 李 张 刘 陈 杨 黄 赵 吴 周 徐 孙 马 朱 胡 郭 何 高 林 罗 郑 梁 谢 宋 唐 许 韩 冯 邓 曹 彭 曾 肖 田 董 袁 潘 于 "
    "蒋 蔡 余 杜 叶 程 苏 魏 吕 丁 任 沈 姚 卢 姜 崔 钟 谭 陆 汪 范 金 石 廖 贾 夏 韦 付 方 白 邹 孟 熊 秦 邱 江 尹 "
    "薛 闫 段 雷 侯 龙 史 陶 黎 贺 顾 毛 郝 龚 邵 万 钱 严 覃 武 戴 莫 孔 向 汤 欧阳 司马 诸葛 上官"
).split()
MALE_GIVEN: Final = (
    "伟 强 磊 军 勇 杰 涛 斌 超 明 刚 平 辉 鹏 华 飞 鑫 波 宇 浩 "
    "凯 健 俊 帆 帅 旭 宁 龙 林 博 文 轩 睿 泽 晨 阳 建 国 志 海"
).split()
FEMALE_GIVEN: Final = (
    "芳 娜 敏 静 丽 艳 娟 霞 秀 玲 婷 雪 慧 颖 琳 洁 晶 萍 红 燕 倩 佳 悦 欣 怡 雨 涵 梓 诗 思 梦 瑶 璐 蕾 月 雯 琪"
).split()
STREETS: Final = (
    "人民路 解放路 中山路 建设路 和平路 胜利街 文化路 新华街 长江路 黄河路 光明街 朝阳路 幸福路 健康路 青年路".split()
)
EDUCATION_BY_AGE: Final = (("21", 30), ("31", 20), ("61", 20), ("71", 20), ("81", 7), ("14", 3))


class PersonFactory:
    """Generates valid persons deterministically from ``seed``; never the same ID number twice."""

    def __init__(self, seed: int = 0, *, today: date | None = None) -> None:
        self.random = random.Random(seed)
        self.today = today or date(2026, 1, 1)
        self._issued: set[str] = set()
        self._surname_weights = [1 / (rank + 8) for rank in range(len(SURNAMES))]

    def _birth_date(self) -> date:
        age_days = int(self.random.triangular(0, 95, 38) * 365.25)
        return self.today - timedelta(days=age_days + 1)

    def id_number(self, region: str, born: date, sex: str) -> str:
        """A fresh valid ID number for a person born in ``region`` on ``born`` (sex 1 odd, 2 even)."""
        while True:
            sequence = self.random.randrange(0, 999)
            if (sequence % 2 == 1) != (sex == "1"):
                sequence += 1
            first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
            number = first17 + check_character(first17)
            if number not in self._issued:
                self._issued.add(number)
                return number

    def name(self, sex: str) -> str:
        """A plausible Chinese name."""
        surname = self.random.choices(SURNAMES, weights=self._surname_weights)[0]
        given = MALE_GIVEN if sex == "1" else FEMALE_GIVEN
        length = 1 if self.random.random() < 0.3 else 2
        return surname + "".join(self.random.choice(given) for _ in range(length))

    def person(self) -> dict[str, Any]:
        """One person, JSON-ready (the shape ``POST /v1/persons`` and imports take)."""
        pick = self.random.choice
        sex = pick("12")
        born = self._birth_date()
        birthplace = pick(list(COUNTIES))
        household = birthplace if self.random.random() < 0.7 else pick(list(COUNTIES))
        age = (self.today - born).days // 365
        codes, weights = zip(*EDUCATION_BY_AGE, strict=True)
        person: dict[str, Any] = {
            "id_number": self.id_number(birthplace, born, sex),
            "name": self.name(sex),
            "former_names": [self.name(sex)] if self.random.random() < 0.05 else [],
            "sex": sex,
            "ethnicity": "01" if self.random.random() < 0.91 else f"{self.random.randint(2, 56):02d}",
            "birth_date": born.isoformat(),
            "birthplace_code": birthplace,
            "household_region_code": household,
            "household_address": (
                f"{COUNTIES[household]}{pick(STREETS)}{self.random.randint(1, 300)}号"
                f"{self.random.randint(1, 30)}栋{self.random.randint(1, 6)}单元{self.random.randint(101, 2804)}室"
            ),
            "marital_status": "10" if age < 22 else pick(["10", "20", "20", "20", "30", "40"]),
            "education": None if age < 6 else self.random.choices(codes, weights=weights)[0],
            "household_id": f"{household}{self.random.randint(0, 999999):06d}",
            "relationship_to_head": pick(["02", "10", "20", "30", "51", "52"]),
        }
        if age > 60 and self.random.random() < 0.03:
            person["death_date"] = (born + timedelta(days=self.random.randint(60 * 365, age * 365))).isoformat()
        return person

    def persons(self, count: int) -> Iterator[dict[str, Any]]:
        """``count`` persons."""
        for _ in range(count):
            yield self.person()


def to_ndjson(persons: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """NDJSON lines of ``persons`` (an import body)."""
    for person in persons:
        yield (json.dumps(person, ensure_ascii=False) + "\n").encode()


def to_csv(persons: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """CSV of ``persons`` with a header row (an import body); former names joined by semicolons."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(IMPORT_COLUMNS)
    for person in persons:
        row = {**person, "former_names": ";".join(person.get("former_names", []))}
        writer.writerow(["" if row.get(column) is None else row[column] for column in IMPORT_COLUMNS])
        if buffer.tell() > 65536:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()
