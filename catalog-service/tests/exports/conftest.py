"""The official DCAT-AP 3.0.0 shapes, and a check of a graph against them (pySHACL, RDFS inference)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pyshacl import validate
from rdflib import Graph

SHAPES = Path(__file__).resolve().parent / "shapes" / "dcat-ap-SHACL.ttl"

Validator = Callable[[Graph], tuple[bool, str]]


@pytest.fixture(scope="session")
def shacl() -> Validator:
    """Checks a graph against the DCAT-AP 3.0.0 shapes: whether it conforms, and pySHACL's report."""
    shapes = Graph().parse(SHAPES, format="turtle")

    def check(data: Graph) -> tuple[bool, str]:
        conforms, _, text = validate(data, shacl_graph=shapes, inference="rdfs", abort_on_first=False)
        return bool(conforms), str(text)

    return check
