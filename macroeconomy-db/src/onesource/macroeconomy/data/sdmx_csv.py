"""SDMX-CSV 2.0.0 data messages (sdmx-twg/sdmx-csv, data-message field guide, tag v2.0.0).

``STRUCTURE,STRUCTURE_ID,ACTION``, then the dimensions, the measure and the attributes in the order the data
structure defines them; one row per observation (``dataflow,CN_STATS:GDP_Q(1.0.0),I,…``), series attributes
repeated on each of its rows. With ``includeHistory`` each vintage's rows follow each other, and a custom column
``VALID_FROM`` (the field guide allows custom columns) says from when each row's value was published.
Numbers are written as PostgreSQL writes them (shortest round-trip); line ends are CRLF (RFC 4180).
"""

from __future__ import annotations

import csv
import io
import itertools

from onesource.macroeconomy.data.sdmx_json import timestamp
from onesource.macroeconomy.data.service import DataAnswer
from onesource.macroeconomy.dataflows.definitions import Role

#: Attributes whose values are the observation's (the others are the series'); a query answers them per row.
_OBSERVATION_LEVEL = ("OBS_STATUS", "EMBARGO_TIME")


def _line(cells: list[str]) -> str:
    """One CSV line, quoted where RFC 4180 needs it."""
    output = io.StringIO(newline="")
    csv.writer(output, lineterminator="\r\n").writerow(cells)
    return output.getvalue()


def _cell(value: str) -> str:
    """A value's cell: empty where the observation has none."""
    return "" if value == "null" else value


def data_csv(answer: DataAnswer) -> str:
    """The SDMX-CSV 2.0 data message of a query's answer."""
    structure = answer.flow.structure
    dimensions = [component.id for component in structure.dimensions]
    attributes = [component.id for component in structure.components if component.role is Role.ATTRIBUTE]
    history = any(vintage is not None for vintage, _ in answer.datasets)
    header = [
        "STRUCTURE",
        "STRUCTURE_ID",
        "ACTION",
        *dimensions,
        "TIME_PERIOD",
        *(m.id for m in structure.measures),
        *attributes,
        *(["VALID_FROM"] if history else []),
    ]
    lines = [_line(header)]
    embargo = {vintage: timestamp(moment) for vintage, moment in answer.embargoed.items()}
    # Per series, a line template (its cells quoted once, ``%s`` where each observation's own cells go): the
    # period, the value, the status and the embargo time are the registry's own text, never needing quotes.
    own = ["TIME_PERIOD", "OBS_VALUE", *(name for name in attributes if name in _OBSERVATION_LEVEL)]
    placeholder = "\x00"
    for vintage, found in answer.datasets:
        valid_from = [timestamp(max(vintage.release_at, vintage.loaded_at))] if vintage is not None else []
        for series in found:
            given = series.series.attributes
            cells = [
                "dataflow",
                answer.flow.structure_id,
                "I",
                *series.series.dimensions,
                placeholder,
                placeholder,
                *(placeholder if name in _OBSERVATION_LEVEL else str(given.get(name, "")) for name in attributes),
                *valid_from,
            ]
            template = _line(cells).replace("%", "%%").replace(placeholder, "%s")
            columns = {
                "TIME_PERIOD": series.periods,
                "OBS_VALUE": series.values if "null" not in series.values else [_cell(v) for v in series.values],
                "OBS_STATUS": series.statuses,
                "EMBARGO_TIME": map(embargo.get, series.vintages, itertools.repeat(""))
                if embargo
                else itertools.repeat(""),
            }
            # the periods end it: the other columns may repeat for ever
            lines.extend(map(template.__mod__, zip(*(columns[name] for name in own), strict=False)))
    return "".join(lines)
