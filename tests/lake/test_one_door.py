"""The one door, checked statically: no module outside ``longshu.lake`` opens lake paths,
reads Delta tables or Parquet datasets, runs Spark, or runs DuckDB (which could be pointed
at lake files). Everything else reads lake data through ``lake.access`` (or its streaming
form ``lake.access_batches``)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "longshu"
LAKE = PACKAGE / "lake"

# Modules that read data files directly; only the lake may import them.
DATA_MODULES = ("deltalake", "pyspark", "pyarrow.dataset", "pyarrow.parquet", "duckdb")
# Names that lead into the lake's files; only the lake may use them.
LAKE_NAMES = {"lake_root", "lake_dir", "LakeSettings", "lake_settings"}
LAKE_INTERNALS = {
    "longshu.lake.storage",
    "longshu.lake.engine",
    "longshu.lake.spark",
    "longshu.lake.checksum",
    "longshu.lake.config",
}
PRIVATE_CALLS = {
    "open_delta",
    "run_duckdb",
    "DuckStream",
    "run_spark",
    "locked_connection",
    "spark_session",
    "open_object",
}
# Where a lake name is allowed outside the lake, and why.
ALLOWED = {
    ("config.py", "lake_root"): "defines the setting",
    ("config.py", "lake_dir"): "defines the setting",
    ("cli.py", "lake_root"): "`longshu init` creates the empty folder",
}
# Modules outside the lake allowed to import a data module (for source files, never the lake).
DATA_MODULE_USERS: dict[str, set[str]] = {
    # demo/files.py writes the demo's source Parquet files (input, not lake);
    # sharing/packages.py writes a batch package from lake.access_batches's stream (output,
    # not lake)
    # and reads a decrypted package back on the consumer's side; sharing/cli.py is that
    # consumer's tool: it saves the rows it decrypted from its own package
    "pyarrow": {"demo/files.py", "sharing/packages.py", "sharing/cli.py"},
}


def _violations(path: Path, rel: str | None = None) -> list[str]:
    rel = rel or path.relative_to(PACKAGE).as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
            )
            if isinstance(node, ast.ImportFrom) and node.module == "longshu.lake":
                names += [f"longshu.lake.{a.name}" for a in node.names]
            for name in names:
                data = any(name == m or name.startswith(m + ".") for m in DATA_MODULES)
                if data and rel not in DATA_MODULE_USERS.get(name.split(".")[0], set()):
                    found.append(f"{rel}:{node.lineno} imports {name}")
                if name in LAKE_INTERNALS:
                    found.append(f"{rel}:{node.lineno} imports lake internals {name}")
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if alias.name in PRIVATE_CALLS:
                        found.append(f"{rel}:{node.lineno} imports {alias.name}")
        elif isinstance(node, ast.Attribute | ast.Name):
            name = node.attr if isinstance(node, ast.Attribute) else node.id
            if name in LAKE_NAMES and (rel, name) not in ALLOWED:
                found.append(f"{rel}:{node.lineno} uses {name}")
            if name in PRIVATE_CALLS:
                found.append(f"{rel}:{node.lineno} uses {name}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value.replace("\\", "/")
            if "var/lake" in text or "_delta_log" in text or "objects/sm3" in text:
                found.append(f"{rel}:{node.lineno} names a lake path")
    return found


def test_no_module_outside_the_lake_opens_lake_data():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if LAKE in path.parents or "migrations" in path.parts:
            continue
        found += _violations(path)
    assert found == [], "read lake data through lake.access:\n" + "\n".join(found)


def test_the_check_catches_what_it_should(tmp_path):
    """The check is not vacuous: a module doing each forbidden thing is reported."""
    sample = (
        "import duckdb\nfrom deltalake import DeltaTable\nimport pyarrow.parquet as pq\n"
        "from longshu.lake.tables import open_delta\nfrom longshu.lake import storage\n"
        "from longshu.lake.door import DuckStream\n"
        "from longshu.config import get_settings\n"
        "p = get_settings().lake_root / 'tables'\nq = 'var/lake/tables/population/_delta_log'\n"
    )
    path = tmp_path / "probe.py"
    path.write_text(sample)
    kinds = " ".join(_violations(path, rel="sharing/probe.py"))
    for expected in (
        "imports duckdb",
        "imports deltalake",
        "imports pyarrow.parquet",
        "imports open_delta",
        "imports DuckStream",
        "lake internals longshu.lake.storage",
        "uses lake_root",
        "names a lake path",
    ):
        assert expected in kinds, expected
