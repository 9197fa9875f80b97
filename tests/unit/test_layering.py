"""Package layering, read from the source with ast (every import statement, also inside functions).

- The library (plugins/salesops) never imports the demo CRM package (plugins/salesops_demo): it
  reaches it only through the source registry's dotted path, like any source kind.
- salesops.bulk_update has no import cycle (model.py is the leaf its modules share); imports under
  ``if TYPE_CHECKING:`` do not run and do not count.
- Plan types are the modules of salesops.bulk_update.plan_types: each has its policy entry and
  its SQL files, and the DAG's enum is that list.
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
    type_only = {
        id(n)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for stmt in block.body
        for n in ast.walk(stmt)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
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
    f.write_text(
        "import a\nfrom b.c import d\nif TYPE_CHECKING:\n    import z\n\ndef f():\n    from e import g\n    import h.i\n"
    )
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


def import_graph(package: str) -> dict[str, set[str]]:
    """module -> the modules of ``package`` it imports (a package's ``__init__`` counts as the package)."""
    modules = package_modules(package)
    return {
        name: {i for i in imports_of(path) if i in modules and i != name} for name, path in modules.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` as a path (first == last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_find_cycle_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_bulk_update_has_no_import_cycle():
    graph = import_graph("salesops.bulk_update")
    for name in ("plan", "apply", "approval", "render", "quality_link", "model", "plan_types"):
        assert f"salesops.bulk_update.{name}" in graph
    assert find_cycle(graph) is None
    # model.py is the leaf the others share: it imports nothing of the package
    assert graph["salesops.bulk_update.model"] == set()
    for name in ("plan", "apply", "approval", "render", "quality_link", "target"):
        assert "salesops.bulk_update.model" in graph[f"salesops.bulk_update.{name}"], name


def test_plan_types_are_the_package_modules_with_policy_and_sql():
    from salesops import paths
    from salesops.bulk_update import plan_types
    from salesops.bulk_update.settings import load_settings

    names = plan_types.names()
    assert names[0] == plan_types.DEFAULT == "fix_forecast_category"
    assert sorted(names) == sorted(load_settings().plan_types)
    for name in names:
        module = plan_types.get(name)
        assert callable(module.sql_context), name
        gaps = plan_types.quality_gaps_sql(name)  # optional: only plan types with quality_checks
        assert (gaps is None) == (not load_settings().plan_types[name].quality_checks), name
        for sql in (module.SQL, *([gaps] if gaps else [])):
            assert (paths.SQL_DIR / "bulk_update" / str(sql)).is_file(), (name, sql)
        assert load_settings().plan_types[name].sql == module.SQL


def test_dag_plan_type_enum_is_the_package(tmp_path):
    from salesops.bulk_update import plan_types

    tree = ast.parse((PLUGINS.parent / "dags" / "crm_bulk_update.py").read_text())
    assigned = [
        ast.unparse(n.value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Assign) and any(getattr(t, "id", None) == "_PLAN_TYPES" for t in n.targets)
    ]
    assert assigned == ["plan_types.names()"]
    files = sorted(
        p.stem
        for p in (PLUGINS / "salesops/bulk_update/plan_types").glob("*.py")
        if not p.stem.startswith("_")
    )
    assert sorted(plan_types.names()) == files and len(files) >= 5


def test_a_policy_entry_without_a_module_is_refused(tmp_path, monkeypatch):

    from salesops import policy
    from salesops.bulk_update.settings import load_settings
    from salesops.config import ConfigError

    (tmp_path / "bulk_updates.yaml").write_text(
        "plan_types:\n"
        "  no_such_type:\n    object: opportunity\n    fields: {StageName: {empty: forbid}}\n"
        "    max_records: 1\n    approver_group: sales_ops\n"
    )
    monkeypatch.setenv("SALESOPS_CONFIG_DIR", str(tmp_path))
    policy.reset()
    try:
        with pytest.raises(
            ConfigError,
            match=r"plan_types\.no_such_type: no plan-type module plugins/salesops/bulk_update/plan_types/no_such_type\.py",
        ):
            load_settings()
        (tmp_path / "bulk_updates.yaml").write_text(
            "plan_types:\n  fix_forecast_category:\n    sql: plan_other.sql\n"
        )
        policy.reset()
        with pytest.raises(
            ConfigError, match=r"plan_types\.fix_forecast_category\.sql: got 'plan_other.sql'"
        ):
            load_settings()
    finally:
        monkeypatch.delenv("SALESOPS_CONFIG_DIR")
        policy.reset()


def _dag_param_enum(dag_file: str, param: str) -> str:
    """The source text of the ``enum=`` (or ``items`` enum) of param ``param`` in a DAG file."""
    tree = ast.parse((PLUGINS.parent / "dags" / dag_file).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == param and isinstance(value, ast.Call):
                    for kw in value.keywords:
                        if kw.arg == "enum":
                            return ast.unparse(kw.value)
                        if kw.arg == "items" and isinstance(kw.value, ast.Dict):
                            items = dict(zip(kw.value.keys, kw.value.values, strict=True))
                            for k, v in items.items():
                                if isinstance(k, ast.Constant) and k.value == "enum":
                                    return ast.unparse(v)
    raise AssertionError(f"no param {param!r} with an enum in {dag_file}")


def test_both_dags_take_their_source_kinds_from_the_registry():
    from salesops.sources.registry import KINDS, SOURCES, WRITABLE_KINDS

    assert _dag_param_enum("crm_extract_load.py", "source") == "list(SOURCE_KINDS)"
    assert _dag_param_enum("crm_bulk_update.py", "source") == "list(WRITABLE_KINDS)"
    assert KINDS == ("demo", "csv", "salesforce", "hubspot", "marketo")
    assert WRITABLE_KINDS == ("demo", "salesforce", "hubspot")
    # every kind's factory resolves (imports its module) to a callable
    from salesops.sources.registry import load_factory

    for entry in SOURCES.values():
        assert callable(load_factory(entry)), entry.name


def test_packs_list_is_in_one_place_and_matches_packs_yaml():
    from salesops.config import policy
    from salesops.packs.names import PACKS

    assert list(PACKS) == list(policy("packs")["packs"])
    assert _dag_param_enum("report_packs.py", "packs") == "_PACKS"
    dag_src = (PLUGINS.parent / "dags" / "report_packs.py").read_text()
    assert "_PACKS = list(PACKS)" in dag_src
    demo_src = (PLUGINS.parent / "scripts" / "demo.py").read_text()
    assert '"packs": list(PACKS)' in demo_src
    for src in (dag_src, demo_src):  # no second copy of the list (a pack name as a string literal)
        literals = {n.value for n in ast.walk(ast.parse(src)) if isinstance(n, ast.Constant)}
        assert literals & set(PACKS) == set()


def test_the_warehouse_only_stores():
    """warehouse/ (connections, DDL, bulk insert) imports neither sources nor the extract-load
    package: reading a CRM and deciding what a load writes live in ingest/ (issue 10)."""
    modules = package_modules("salesops.warehouse")
    assert set(modules) >= {"salesops.warehouse.core", "salesops.warehouse.schema"}
    offenders = {
        name: sorted(
            i
            for i in imports_of(path)
            if i.startswith(("salesops.sources", "salesops.ingest", "salesops_demo"))
        )
        for name, path in modules.items()
    }
    assert {k: v for k, v in offenders.items() if v} == {}
    ingest = package_modules("salesops.ingest")
    assert {"salesops.ingest.extract", "salesops.ingest.load", "salesops.ingest.tasks"} <= set(ingest)
