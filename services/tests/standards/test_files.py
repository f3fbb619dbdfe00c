from __future__ import annotations

from importlib.resources import files

#: Every table shipped and the module that reads it (each is tested through that module).
TABLES = {
    "company_types.csv": "onesource.standards.entity_types",
    "currencies.csv": "onesource.standards.currencies",
    "divisions.csv": "onesource.standards.divisions",
    "industries.csv": "onesource.standards.industries",
    "land_use.csv": "onesource.standards.land_use",
    "uscc_registration.csv": "onesource.standards.uscc",
}


def test_only_known_small_tables_are_shipped() -> None:
    data = files("onesource.standards") / "data"
    shipped = {entry.name for entry in data.iterdir() if not entry.name.startswith(".")}
    assert shipped == {*TABLES, "SOURCES.md"}
    for name in TABLES:
        raw = (data / name).read_bytes()
        assert len(raw) < 2_000_000
        assert raw.endswith(b"\n")
        assert b"\r" not in raw
        raw.decode("utf-8")
        assert name in (data / "SOURCES.md").read_text(encoding="utf-8")


def test_each_table_is_read_by_its_module() -> None:
    for name, module in TABLES.items():
        source = (files(module.rsplit(".", 1)[0]) / f"{module.rsplit('.', 1)[1]}.py").read_text(encoding="utf-8")
        assert f'"{name}"' in source
