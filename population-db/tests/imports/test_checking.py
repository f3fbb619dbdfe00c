"""The worker processes that check import files: a worker that dies fails its blocks, and new workers take over."""

from __future__ import annotations

import asyncio
import multiprocessing
import uuid
from collections.abc import AsyncIterator
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime

from onesource.population.demo import PersonFactory, to_csv
from onesource.population.imports import parsing
from onesource.population.imports.checking import CheckerPool, Job, check
from onesource.population.imports.schemas import IMPORT_COLUMNS


async def _blocks(body: bytes, block_lines: int) -> list[parsing.Block]:
    async def chunks() -> AsyncIterator[bytes]:
        yield body

    return [block async for block in parsing.blocks(chunks(), "csv", IMPORT_COLUMNS, block_lines=block_lines)]


def test_a_dead_worker_fails_the_blocks_it_had_and_new_workers_check_the_next() -> None:
    async def scenario() -> None:
        blocks = await _blocks(b"".join(to_csv(PersonFactory(seed=11).persons(2000))), block_lines=200)
        before = set(multiprocessing.active_children())
        pool = CheckerPool(1)
        try:
            job = Job(blocks[0], str(uuid.uuid4()), datetime.now(UTC))
            assert len((await pool.submit(check, job)).persons) == 200
            checking = [pool.submit(check, Job(block, job.import_id, job.at)) for block in blocks]
            for worker in set(multiprocessing.active_children()) - before:
                worker.kill()
            outcomes = await asyncio.gather(*checking, return_exceptions=True)
            assert any(isinstance(outcome, BrokenProcessPool) for outcome in outcomes), outcomes

            checked = await pool.submit(check, Job(blocks[1], job.import_id, job.at))
            assert (len(checked.persons), checked.lines[0]) == (200, 202)
        finally:
            pool.close()

    asyncio.run(scenario())
