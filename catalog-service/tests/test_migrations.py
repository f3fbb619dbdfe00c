"""Migrations that rewrite data: resources written before the relevance tiers get their tier terms."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import asyncpg

from onesource.kit.migrations import upgrade
from onesource.kit.testing.plugin import Infrastructure, worker_suffix

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


async def test_existing_resources_get_the_relevance_terms(infrastructure: Infrastructure) -> None:
    dsn = await infrastructure.recreate_database(f"test_catalog_migrations_{worker_suffix()}")
    await asyncio.to_thread(upgrade, MIGRATIONS, dsn, "0007")
    connection = await asyncpg.connect(dsn.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        fields = [{"name": "name", "element": "person.name", "data_type": "C", "description": "姓名"}]
        await connection.execute(
            "INSERT INTO resource (id, code, name, summary, provider, category, format, update_cycle, share_type, "
            "open_to_public, paths, status, version, fields, elements, search, created_by, updated_at) VALUES "
            "('civil.marriage', '3/000001', '婚姻登记信息', '登记', 'mca', 'department', 'api/json', 'daily', "
            "'unconditional', false, '{}', 'published', 1, $1, '{person.name}', "
            "array_to_tsvector('{婚姻,status=published}'::text[]), 'admin', now())",
            json.dumps(fields, ensure_ascii=False),
        )
        await asyncio.to_thread(upgrade, MIGRATIONS, dsn)
        terms = set(await connection.fetchval("SELECT tsvector_to_array(search) FROM resource"))
        naming = set(await connection.fetchval("SELECT tsvector_to_array(naming) FROM resource"))
    finally:
        await connection.close()
    assert {"exact=婚姻登记信息", "exact=3/000001", "exact=civil.marriage", "name:婚姻", "000001"} <= terms
    assert {"status=published", "provider=mca", "element=person.name", "姓名"} <= terms
    # 0010: the name and exact terms, and only those, are kept apart for ranking.
    assert naming == {term for term in terms if term.startswith(("name:", "exact="))}
    assert {"exact=婚姻登记信息", "name:婚姻", "name:civil"} <= naming
