"""What every benchmark shares: the servers it runs against and the result table it reports."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table as RichTable

from onesource.kit.testing.plugin import Infrastructure, provisioned


@dataclass
class Row:
    metric: str
    measured: str
    baseline: str
    ratio: str
    target: str
    passed: bool | None


@dataclass
class Table:
    title: str
    description: str
    rows: list[Row] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(row.passed is not False for row in self.rows)

    def markdown(self) -> list[str]:
        lines = [f"## {self.title}", "", self.description, ""]
        lines.append("| metric | measured | baseline | ratio | target | met |")
        lines.append("|---|---|---|---|---|---|")
        for row in self.rows:
            met = {True: "yes", False: "**no**", None: "—"}[row.passed]
            lines.append(f"| {row.metric} | {row.measured} | {row.baseline} | {row.ratio} | {row.target} | {met} |")
        lines.append("")
        return lines

    def rich(self) -> RichTable:
        table = RichTable(title=self.title)
        for column in ("metric", "measured", "baseline", "ratio", "target", "met"):
            table.add_column(column)
        for row in self.rows:
            met = {True: "[green]yes[/green]", False: "[red]no[/red]", None: "—"}[row.passed]
            table.add_row(row.metric, row.measured, row.baseline, row.ratio, row.target, met)
        return table


@asynccontextmanager
async def bench_servers(console: Console) -> AsyncIterator[Infrastructure]:
    """The benchmark's PostgreSQL and broker: embedded, or the ones the test variables name."""
    with tempfile.TemporaryDirectory(prefix="onesource-bench-") as scratch, provisioned(Path(scratch)) as servers:
        console.print(f"servers: PostgreSQL {servers.admin_dsn.rsplit('@', 1)[-1]}, Kafka {servers.kafka.bootstrap}")
        yield servers


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]
