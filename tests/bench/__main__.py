"""``make bench``: run the benchmarks and write ``tests/bench/RESULTS.md``.

Each benchmark measures the thing and its baseline in the same run, on the same servers, and reports ratios:
the machines are shared and noisy, so absolute numbers only describe this run.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import platform
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from tests.bench.harness import Table, bench_servers

RESULTS = Path(__file__).with_name("RESULTS.md")

#: Benchmark name -> ``module:function``; each function takes the servers and the console and returns a table.
BENCHMARKS = {
    "outbox": "tests.bench.outbox:bench_outbox",
    "population": "tests.bench.population:bench_population",
    "legal-entity": "tests.bench.legal_entity:bench_legal_entity",
    "catalog": "tests.bench.catalog:bench_catalog",
    "gateway": "tests.bench.gateway:bench_gateway",
    "frame": "tests.bench.frame:bench_frame",
    "macroeconomy": "tests.bench.macroeconomy:bench_macroeconomy",
    "geo": "tests.bench.geo:bench_geo",
}


def benchmark(name: str) -> Callable[..., Awaitable[Table]]:
    module, function = BENCHMARKS[name].split(":")
    found: Callable[..., Awaitable[Table]] = getattr(importlib.import_module(module), function)
    return found


async def run(selected: list[str], console: Console) -> list[Table]:
    tables: list[Table] = []
    async with bench_servers(console) as servers:
        for name in selected:
            tables.append(await benchmark(name)(servers, console))
    return tables


def _sections(path: Path) -> dict[str, list[str]]:
    """The tables of an earlier ``RESULTS.md`` by title, in their order (each from its ``## `` heading on)."""
    if not path.exists():
        return {}
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            current = sections.setdefault(line[3:], [])
            current.clear()
        if current is not None:
            current.append(line)
    return sections


def main() -> int:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request would be the benchmark's cost
    parser = argparse.ArgumentParser(prog="python -m tests.bench")
    parser.add_argument("--only", action="append", choices=list(BENCHMARKS), help="run only these benchmarks")
    parser.add_argument("--out", type=Path, default=RESULTS)
    arguments = parser.parse_args()
    console = Console()
    tables = asyncio.run(run(arguments.only or list(BENCHMARKS), console))
    command = (
        "make bench"
        if not arguments.only
        else "python -m tests.bench " + " ".join(f"--only {name}" for name in arguments.only)
    )
    produced = (
        f"`{command}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{platform.machine()}, Python {platform.python_version()}, {sys.platform}"
    )
    header = [
        "# Benchmark results",
        "",
        "Baselines are measured in the same run on the same servers; compare the ratios, not the absolute rates.",
        "Each table says the command and run that produced it (`--only` replaces only its own tables).",
        "",
    ]
    sections = _sections(arguments.out) if arguments.only else {}
    for table in tables:
        markdown = table.markdown()
        sections[table.title] = [*markdown[:2], f"Produced by {produced}.", "", *markdown[2:]]
        console.print(table.rich())
    lines = [*header, *(line for section in sections.values() for line in section)]
    arguments.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    console.print(f"results written to {arguments.out}")
    return 0 if all(table.passed for table in tables) else 1


if __name__ == "__main__":
    raise SystemExit(main())
