"""Package layering, read from the source with ast (every import statement, also inside functions).

- The library (plugins/salesops) never imports the demo CRM package (plugins/salesops_demo): it
  reaches it only through the source registry's dotted path, like any source kind.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PLUGINS).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports (absolute names; ``from x import y`` counts as x and x.y)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def package_modules(package: str) -> dict[str, Path]:
    root = PLUGINS / package.replace(".", "/")
    return {_module_name(p): p for p in sorted(root.rglob("*.py"))}


def test_imports_of_sees_function_level_imports(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("import a\nfrom b.c import d\n\ndef f():\n    from e import g\n    import h.i\n")
    assert imports_of(f) == {"a", "b.c", "b.c.d", "e", "e.g", "h.i"}


def test_library_does_not_import_the_demo_package():
    modules = package_modules("salesops")
    assert len(modules) > 50  # the walk found the library
    offenders = {
        name: sorted(i for i in imports_of(path) if i == "salesops_demo" or i.startswith("salesops_demo."))
        for name, path in modules.items()
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_demo_is_loaded_through_the_registry(tmp_path):
    import salesops_demo
    from salesops.sources.registry import SOURCES, get_source

    assert SOURCES["demo"].factory == "salesops_demo:DemoCrm"
    src = get_source("demo", path=tmp_path / "crm.duckdb")
    assert type(src) is salesops_demo.DemoCrm
    assert src.target_id == f"demo:{(tmp_path / 'crm.duckdb').resolve()}"
    with pytest.raises(TypeError, match="conn_id"):
        get_source("demo", conn_id="salesforce_default")


def test_bulk_update_target_describes_the_demo_through_the_registry(tmp_path):
    from salesops.bulk_update import target

    assert target.describe("demo", {"path": str(tmp_path / "x.duckdb")}) == (
        f"demo:{(tmp_path / 'x.duckdb').resolve()}"
    )
