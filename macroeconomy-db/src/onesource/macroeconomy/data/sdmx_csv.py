"""SDMX-CSV 2.0.0 data messages (sdmx-twg/sdmx-csv, data-message field guide, tag v2.0.0).

``STRUCTURE,STRUCTURE_ID,ACTION``, then the dimensions, the measure and the attributes in the order the data
structure defines them; one row per observation (``dataflow,CN_STATS:GDP_Q(1.0.0),I,…``), series attributes
repeated on each of its rows. With ``includeHistory`` each vintage's rows follow each other, and a custom column
``VALID_FROM`` (the field guide allows custom columns) says from when each row's value was published.
Numbers are written as Python's shortest round-trip repr; line ends are CRLF (RFC 4180).
"""

from __future__ import annotations

import csv
import io

from onesource.macroeconomy.data.sdmx_json import timestamp
from onesource.macroeconomy.data.service import DataAnswer
from onesource.macroeconomy.dataflows.definitions import Role


def data_csv(answer: DataAnswer) -> str:
    """The SDMX-CSV 2.0 data message of a query's answer."""
    structure = answer.flow.structure
    dimensions = [component.id for component in structure.dimensions]
    attributes = [component.id for component in structure.components if component.role is Role.ATTRIBUTE]
    history = any(vintage is not None for vintage, _ in answer.datasets)
    output = io.StringIO(newline="")
    writer = csv.writer(output, lineterminator="\r\n")
    writer.writerow(
        [
            "STRUCTURE",
            "STRUCTURE_ID",
            "ACTION",
            *dimensions,
            "TIME_PERIOD",
            *(m.id for m in structure.measures),
            *attributes,
            *(["VALID_FROM"] if history else []),
        ]
    )
    head = ["dataflow", answer.flow.structure_id, "I"]
    for vintage, rows in answer.datasets:
        valid_from = [timestamp(max(vintage.release_at, vintage.loaded_at))] if vintage is not None else []
        for row in rows:
            values = {
                **row.series.attributes,
                "OBS_STATUS": row.status,
                "EMBARGO_TIME": timestamp(row.embargo_time) if row.embargo_time is not None else "",
            }
            writer.writerow(
                [
                    *head,
                    *row.series.dimensions,
                    row.time_period,
                    "" if row.value is None else repr(row.value),
                    *(values.get(name, "") for name in attributes),
                    *valid_from,
                ]
            )
    return output.getvalue()
