"""The recorded history of a fault run: every call, every event seen and every fault, in the order they happened."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

#: A call's outcome: it took effect (``ok``), certainly did not (``refused``: a 4xx answer; ``failed``: never sent),
#: or may have either way (``unknown``: a 5xx, a dropped connection or a timeout).
OUTCOMES = ("ok", "refused", "failed", "unknown")


@dataclass
class Op:
    """One entry: a call with its outcome, an event as a reader saw it, or a fault of the nemesis."""

    index: int
    time: float
    """Seconds since the run started, when the call was made (or the event seen, or the fault injected)."""
    process: str
    """Who: ``writer-2``, ``reader-0``, ``feed``, ``topic``, ``nemesis``."""
    kind: str
    """``call``, ``event`` or ``fault``."""
    name: str
    key: str | None = None
    outcome: str = "ok"
    detail: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        detail = json.dumps(self.detail, ensure_ascii=False, default=str)
        if len(detail) > 240:
            detail = detail[:240] + "…"
        return f"#{self.index:<6} {self.time:8.3f}s {self.process:<10} {self.kind:<5} {self.name:<16} " + (
            f"{self.key or '-':<20} {self.outcome:<8} {detail}"
        )


class History:
    """Append-only; one asyncio loop writes it, so no lock is needed."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.ops: list[Op] = []
        self._start = time.monotonic()

    def now(self) -> float:
        return time.monotonic() - self._start

    def record(
        self,
        process: str,
        kind: str,
        name: str,
        *,
        key: str | None = None,
        outcome: str = "ok",
        at: float | None = None,
        **detail: Any,
    ) -> Op:
        op = Op(len(self.ops), self.now() if at is None else at, process, kind, name, key, outcome, detail)
        self.ops.append(op)
        return op

    def of(self, kind: str, name: str | None = None) -> list[Op]:
        return [op for op in self.ops if op.kind == kind and (name is None or op.name == name)]

    def excerpt(self, index: int, *, key: str | None = None, around: int = 12) -> str:
        """The entries around ``index``: every one of ``key`` near it and the faults and others just around it."""
        start, end = max(0, index - around), min(len(self.ops), index + around + 1)
        near = {op.index for op in self.ops[start:end]}
        if key is not None:
            near |= {op.index for op in self.ops if op.key == key}
        near |= {op.index for op in self.ops if op.kind == "fault" and abs(op.index - index) <= 6 * around}
        return "\n".join(self.ops[i].line() for i in sorted(near))

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as out:
            for op in self.ops:
                out.write(json.dumps(asdict(op), ensure_ascii=False, default=str) + "\n")
