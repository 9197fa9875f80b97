"""Generate the metrics glossary (Markdown for docs/, HTML for the output folder) from the registry.

Run ``python -m salesops.kpis.glossary`` (with plugins/ on PYTHONPATH) after changing
include/config/metrics.yaml; a unit test fails when docs/glossary.md is out of date.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from salesops import paths
from salesops.kpis.registry import Metric, load_registry

DOCS_GLOSSARY = paths.PROJECT_ROOT / "docs" / "glossary.md"


def _env() -> jinja2.Environment:
    # Autoescape on for the HTML; the Markdown template is rendered by a second, non-escaping
    # environment (escaping '<' in Markdown would print "&lt;" in the docs).
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(paths.TEMPLATES_DIR / "kpis")),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=True),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def render_markdown(metrics: list[Metric] | None = None) -> str:
    """The glossary as Markdown."""
    metrics = metrics if metrics is not None else list(load_registry().values())
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(paths.TEMPLATES_DIR / "kpis")),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    return env.get_template("glossary.md.j2").render(metrics=metrics)


def render_html(metrics: list[Metric] | None = None) -> str:
    """The glossary as a standalone HTML page (autoescaped)."""
    metrics = metrics if metrics is not None else list(load_registry().values())
    return _env().get_template("glossary.html.j2").render(metrics=metrics)


def write_glossary(markdown_path: Path | None = None, html_path: Path | None = None) -> tuple[Path, Path]:
    """Write docs/glossary.md and <output_dir>/glossary.html (or the given paths).

    Returns:
        The two paths written.
    """
    md = markdown_path or DOCS_GLOSSARY
    html = html_path or (paths.output_dir() / "glossary.html")
    for path, text in ((md, render_markdown()), (html, render_html())):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return md, html


if __name__ == "__main__":  # pragma: no cover - CLI
    for written in write_glossary():
        print(f"wrote {written}")
