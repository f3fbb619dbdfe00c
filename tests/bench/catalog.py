"""Catalog search over 100,000 resources: text (Chinese and English), filters and facets, through the API.

Target (DESIGN.md): search p95 ≤ 50 ms over 100,000 resources. The directory is bulk-loaded with COPY (not
through the API), with search terms made by the catalog's own tokenizer. Every request goes through the
catalog app in-process (routing, token check, SQL, facets, serialisation); the baseline is a primary-key read
of one resource through the same app in the same run, and the same filters without the text query.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
from pydantic import SecretStr
from rich.console import Console

import onesource.catalog
from onesource.catalog.main import create_app
from onesource.catalog.resources.search import resource_terms
from onesource.catalog.settings import Settings
from onesource.kit.migrations import service_migrations_dir, upgrade
from onesource.kit.testing.plugin import Infrastructure, api_client, running_app
from onesource.kit.testing.tokens import TestTokens
from tests.bench.harness import Row, Table, percentile

RESOURCES = 100_000
WARMUP = 60
ROUNDS = 3  # alternating rounds of every query kind; percentiles over all of them
PER_ROUND = 150
SEED = 20_240_601

REGIONS = ["东城区", "西城区", "朝阳区", "海淀区", "丰台区", "石景山区", "门头沟区", "房山区", "通州区", "顺义区",
           "昌平区", "大兴区", "怀柔区", "平谷区", "密云区", "延庆区", "全市"]  # fmt: skip
TOPICS = [
    ("人口", "population"), ("户籍", "household"), ("法人", "legal entity"), ("企业", "enterprise"),
    ("社保", "social insurance"), ("医保", "medical insurance"), ("教育", "education"), ("学籍", "student"),
    ("交通", "transport"), ("车辆", "vehicle"), ("驾驶证", "driving licence"), ("不动产", "real estate"),
    ("房屋", "housing"), ("土地", "land"), ("地理", "geographic"), ("规划", "planning"), ("环境", "environment"),
    ("水质", "water quality"), ("空气", "air quality"), ("气象", "weather"), ("农业", "agriculture"),
    ("林业", "forestry"), ("税务", "tax"), ("发票", "invoice"), ("财政", "finance"), ("预算", "budget"),
    ("统计", "statistics"), ("经济", "economy"), ("就业", "employment"), ("养老", "pension"),
    ("婚姻", "marriage"), ("民政", "civil affairs"), ("救助", "assistance"), ("残疾人", "disability"),
    ("卫生", "health"), ("医院", "hospital"), ("疫苗", "vaccine"), ("药品", "medicine"), ("食品", "food safety"),
    ("市场", "market"), ("许可", "licence"), ("执法", "enforcement"), ("信用", "credit"), ("司法", "justice"),
    ("公证", "notary"), ("知识产权", "intellectual property"), ("专利", "patent"), ("商标", "trademark"),
    ("海关", "customs"), ("出入境", "border"), ("旅游", "tourism"), ("文化", "culture"), ("体育", "sports"),
    ("科技", "technology"), ("能源", "energy"), ("电力", "power"), ("供水", "water supply"), ("燃气", "gas"),
    ("应急", "emergency"), ("消防", "fire"),
]  # fmt: skip
KINDS = [("基础信息", "basic records"), ("登记信息", "registrations"), ("许可信息", "permits"),
         ("统计数据", "statistics"), ("监管记录", "inspections"), ("证照信息", "certificates"),
         ("变更记录", "changes"), ("年报信息", "annual reports"), ("检查结果", "check results"),
         ("服务事项", "services")]  # fmt: skip
FIELDS = [("name", "名称"), ("id_number", "公民身份号码"), ("address", "地址"), ("phone", "联系电话"),
          ("birth_date", "出生日期"), ("uscc", "统一社会信用代码"), ("representative", "法定代表人"),
          ("capital", "注册资本"), ("scope", "经营范围"), ("authority", "登记机关"), ("household_address", "户籍地址"),
          ("issued_on", "发证日期"), ("valid_until", "有效期至"), ("status", "状态"), ("amount", "金额"),
          ("region_code", "行政区划代码"), ("area", "面积"), ("longitude", "经度"), ("latitude", "纬度"),
          ("remarks", "备注")]  # fmt: skip
DEPARTMENTS = [f"dept-{number:02d}" for number in range(40)]
CATEGORIES = [("base", 1), ("theme", 3), ("department", 6)]
SHARE_TYPES = [("unconditional", 5), ("conditional", 35), ("not_shared", 15)]
STATUSES = [("published", 85), ("draft", 10), ("retired", 5)]
UPDATE_CYCLES = ["realtime", "daily", "weekly", "monthly", "quarterly", "semiannual", "annual", "other"]

COLUMNS = [
    "id", "code", "name", "summary", "provider", "category", "format", "update_cycle", "share_type",
    "share_condition", "legal_basis", "open_to_public", "open_condition", "service", "paths", "key", "topic",
    "status", "version", "fields", "elements", "created_by", "updated_at", "published_at", "terms",
]  # fmt: skip


def _weighted(rng: random.Random, choices: list[tuple[str, int]]) -> str:
    return rng.choices([value for value, _ in choices], weights=[weight for _, weight in choices])[0]


def _resources(count: int) -> list[tuple[Any, ...]]:
    """``count`` synthetic directory rows (with their search terms), deterministic for a seed."""
    rng = random.Random(SEED)
    sequences = {"base": 0, "theme": 0, "department": 0}
    codes = {"base": 1, "theme": 2, "department": 3}
    now = datetime.now(UTC)
    rows: list[tuple[Any, ...]] = []
    for number in range(count):
        region = rng.choice(REGIONS)
        (topic, topic_en), (other, other_en) = rng.sample(TOPICS, 2)
        kind, kind_en = rng.choice(KINDS)
        category = _weighted(rng, CATEGORIES)
        share_type = _weighted(rng, SHARE_TYPES)
        status = _weighted(rng, STATUSES)
        provider = rng.choice(DEPARTMENTS)
        sequences[category] += 1
        slug = topic_en.replace(" ", "-")
        fields = [
            {
                "name": name,
                "element": f"{slug.replace('-', '_')}.{name}",
                "data_type": "C",
                "length": 100,
                "description": f"{topic}{label}",
                "authoritative": False,
                "source_element": f"{slug.replace('-', '_')}.{name}",
            }
            for name, label in rng.sample(FIELDS, rng.randint(4, 10))
        ]
        resource_id = f"{slug}.{kind_en.replace(' ', '-')}-{number}"
        name = f"{region}{topic}{kind}"
        summary = (
            f"{region}{topic}{kind}，包括{other}相关的数据项，由{provider}维护。"
            f"{topic_en.capitalize()} {kind_en} of {region} with {other_en} data."
        )
        elements = sorted({str(field["element"]) for field in fields})
        code = f"{codes[category]}/{sequences[category]:06d}"
        terms = resource_terms(
            resource_id=resource_id,
            code=code,
            name=name,
            summary=summary,
            fields=[(str(field["name"]), str(field["description"])) for field in fields],
            attributes={"provider": provider, "category": category, "share_type": share_type, "status": status},
            elements=elements,
        )
        rows.append(
            (
                resource_id,
                code,
                name,
                summary,
                provider,
                category,
                "api/json",
                rng.choice(UPDATE_CYCLES),
                share_type,
                "用于行政审批" if share_type == "conditional" else None,
                "《数据安全法》" if share_type == "not_shared" else None,
                False,
                None,
                None,
                [],
                None,
                None,
                status,
                1,
                json.dumps(fields, ensure_ascii=False),
                elements,
                "bench",
                now,
                now if status != "draft" else None,
                terms,
            )
        )
    return rows


async def _load(dsn: str, rows: list[tuple[Any, ...]]) -> float:
    """COPY the rows into a staging table and move them into ``resource`` in one statement; seconds taken."""
    started = time.perf_counter()
    connection = await asyncpg.connect(dsn.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        async with connection.transaction():
            await connection.execute(
                "CREATE TEMP TABLE staging (LIKE resource INCLUDING DEFAULTS) ON COMMIT DROP;"
                "ALTER TABLE staging DROP COLUMN search, ADD COLUMN terms text[]"
            )
            await connection.copy_records_to_table("staging", records=rows, columns=COLUMNS)
            names = ", ".join(column for column in COLUMNS if column != "terms")
            await connection.execute(
                f"INSERT INTO resource ({names}, search) SELECT {names}, array_to_tsvector(terms) FROM staging"
            )
        await connection.execute("VACUUM ANALYZE resource")
    finally:
        await connection.close()
    return time.perf_counter() - started


def _queries(rng: random.Random, consumer: dict[str, str], coordinator: dict[str, str]) -> dict[str, list[Any]]:
    """Requests by kind: (params, headers)."""
    chinese = ["社保", "人口基础", "登记信息", "东城区 不动产", "统一社会信用代码", "户籍地址", "医院", "知识产权 许可",
               "海淀区", "食品 检查结果", "婚姻登记", "出生日期", "气象统计"]  # fmt: skip
    english = ["social insurance", "registrations", "permit", "real estate", "vehicle", "patent annual",
               "water", "tax invoices", "health", "cert"]  # fmt: skip

    def filters() -> dict[str, str]:
        choice = rng.randrange(6)
        return [
            {},
            {"provider": rng.choice(DEPARTMENTS)},
            {"category": rng.choice(["base", "theme", "department"])},
            {"share_type": rng.choice(["unconditional", "conditional", "not_shared"])},
            {"element": f"{rng.choice(TOPICS)[1].replace(' ', '_')}.{rng.choice(FIELDS)[0]}"},
            {"provider": rng.choice(DEPARTMENTS), "share_type": "conditional"},
        ][choice]

    def who() -> dict[str, str]:
        return coordinator if rng.random() < 0.3 else consumer

    kinds: dict[str, list[Any]] = {"chinese": [], "english": [], "filters only": [], "lookup": []}
    for _ in range(PER_ROUND * ROUNDS):
        kinds["chinese"].append(({"q": rng.choice(chinese), **filters()}, who()))
        kinds["english"].append(({"q": rng.choice(english), **filters()}, who()))
        kinds["filters only"].append((filters(), who()))
    return kinds


async def _timed(http: httpx.AsyncClient, path: str, params: dict[str, str], headers: dict[str, str]) -> float:
    started = time.perf_counter()
    response = await http.get(path, params=params, headers=headers)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"{path} {params}: {response.status_code} {response.text[:300]}")
    return elapsed


async def bench_catalog(servers: Infrastructure, console: Console) -> Table:
    dsn = await servers.recreate_database("bench_catalog")
    await asyncio.to_thread(upgrade, service_migrations_dir(onesource.catalog.__file__), dsn)
    with console.status(f"generating {RESOURCES:,} resources"):
        rows = _resources(RESOURCES)
    with console.status("bulk-loading them (COPY)"):
        load_seconds = await _load(dsn, rows)
    console.print(f"loaded {RESOURCES:,} resources in {load_seconds:.1f} s")
    ids = [row[0] for row in rows if row[17] == "published"]

    settings = Settings(
        database_url=SecretStr(dsn),
        relay_enabled=False,
        grant_consumer_enabled=False,
        department_consumer_enabled=False,
        kafka=servers.kafka,
    )
    tokens = TestTokens()
    # An hour's tokens: on a busy shared machine a run outlasts the default five minutes.
    consumer = {
        "Authorization": f"Bearer {tokens.issue('bench-consumer', 'civil-affairs', ['consumer'], lifetime=3600)}"
    }
    coordinator = {
        "Authorization": f"Bearer {tokens.issue('bench-coordinator', 'big-data', ['coordinator'], lifetime=3600)}"
    }
    rng = random.Random(SEED)
    kinds = _queries(rng, consumer, coordinator)
    kinds["lookup"] = [(rng.choice(ids), consumer) for _ in range(PER_ROUND * ROUNDS)]
    latencies: dict[str, list[float]] = {kind: [] for kind in kinds}
    matched: list[int] = []
    capped = 0

    async with running_app(create_app(settings), tokens) as app, api_client(app) as http:
        logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request would drown the console
        for params, headers in kinds["chinese"][:WARMUP]:  # warm the pool, caches and plans
            await _timed(http, "/v1/resources", params, headers)
        with console.status("measuring"):
            # Kinds alternate round by round, so a noisy neighbour on the shared machine skews all of them alike.
            for round_number in range(ROUNDS):
                window = slice(round_number * PER_ROUND, (round_number + 1) * PER_ROUND)
                for kind, requests in kinds.items():
                    for request, headers in requests[window]:
                        if kind == "lookup":
                            latencies[kind].append(await _timed(http, f"/v1/resources/{request}", {}, headers))
                        else:
                            latencies[kind].append(await _timed(http, "/v1/resources", request, headers))
            for params, headers in kinds["chinese"][:100] + kinds["english"][:100]:
                facets = (await http.get("/v1/resources", params=params, headers=headers)).json()["facets"]
                matched.append(facets["total"])
                capped += facets["capped"]

    def ms(values: list[float], fraction: float) -> float:
        return percentile(values, fraction) * 1000

    text = latencies["chinese"] + latencies["english"]
    p50, p95 = ms(text, 0.50), ms(text, 0.95)
    lookup50, lookup95 = ms(latencies["lookup"], 0.50), ms(latencies["lookup"], 0.95)
    filters50, filters95 = ms(latencies["filters only"], 0.50), ms(latencies["filters only"], 0.95)
    return Table(
        title="Catalog search",
        description=(
            f"{RESOURCES:,} resources bulk-loaded with COPY ({load_seconds:.1f} s; search terms from the catalog's "
            "tokenizer: CJK unigrams + bigrams, words and attribute terms, one GIN-indexed tsvector; relevance tiers "
            "from its name and exact-match terms, which the database keeps apart in a generated column). "
            f"{ROUNDS} alternating rounds of "
            f"{PER_ROUND} requests per kind, one at a time, through the catalog app in-process (token check, SQL, "
            "facets by provider/category/share type/status, JSON): Chinese and English queries each combined with "
            "no filter, provider, category, share type, element, or provider + share type; 30% as a coordinator "
            "(all statuses), 70% as a consumer (published only). Baseline: a primary-key read of one resource "
            f"through the same app. Median matches per text query: {int(percentile([float(m) for m in matched], 0.5))}"
            f" (max {max(matched)}); {capped} of {len(matched)} had capped facets (cap {settings.facet_cap:,})."
        ),
        rows=[
            Row("text search p50", f"{p50:.1f} ms", f"{lookup50:.1f} ms lookup", f"{p50 / lookup50:.1f}×", "—", None),
            Row(
                "text search p95",
                f"{p95:.1f} ms",
                f"{lookup95:.1f} ms lookup",
                f"{p95 / lookup95:.1f}×",
                "≤ 50 ms",
                p95 <= 50,
            ),
            Row("Chinese p95", f"{ms(latencies['chinese'], 0.95):.1f} ms", "—", "—", "≤ 50 ms", None),
            Row("English p95", f"{ms(latencies['english'], 0.95):.1f} ms", "—", "—", "≤ 50 ms", None),
            Row(
                "filters only (no text) p95",
                f"{filters95:.1f} ms",
                f"{lookup95:.1f} ms lookup",
                f"{filters95 / lookup95:.1f}×",
                "≤ 50 ms",
                filters95 <= 50,
            ),
            Row("filters only p50", f"{filters50:.1f} ms", "—", "—", "—", None),
        ],
    )
