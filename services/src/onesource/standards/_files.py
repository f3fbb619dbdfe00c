"""The standards' tables: CSV files (UTF-8, one header row) shipped in ``data/`` beside the code."""

from __future__ import annotations

import csv
import io
from importlib.resources import files


def read_table(name: str) -> list[dict[str, str]]:
    """The rows of ``data/<name>`` as dictionaries keyed by the header."""
    text = (files("onesource.standards") / "data" / name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))
