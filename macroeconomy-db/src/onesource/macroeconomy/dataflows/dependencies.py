"""Dataflow dependencies: "the dataflow named in the path, or 404"."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from onesource.macroeconomy.dataflows.definitions import DATAFLOWS, Dataflow
from onesource.macroeconomy.dataflows.errors import DataflowNotFound

FlowPath = Annotated[str, Path(min_length=1, max_length=64, description="Dataflow id, such as `GDP_Q`.")]


async def _flow(flow: FlowPath) -> Dataflow:
    found = DATAFLOWS.get(flow)
    if found is None:
        raise DataflowNotFound(f"no dataflow {flow!r}; there are {', '.join(sorted(DATAFLOWS))}")
    return found


FlowDep = Annotated[Dataflow, Depends(_flow)]
"""The dataflow named in the path, or 404."""
