"""Pack charts (matplotlib, Agg backend, no network): PNG bytes, embedded as data URIs.

Every function returns PNG bytes rendered deterministically (fixed size, fonts and metadata), so
the same data gives the same image.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

_BLUE, _GREEN, _RED, _GREY, _AMBER = "#2b6cb0", "#2f855a", "#c53030", "#718096", "#b7791f"


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "font.size": 8,
            "font.family": "DejaVu Sans",
            "axes.spines.top": False,
            "axes.spines.right": False,
            "svg.hashsalt": "salesops",
        }
    )
    return plt


def _png(fig) -> bytes:
    buf = io.BytesIO()
    # No timestamp/software metadata: identical data gives identical bytes.
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    fig.clf()
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buf.getvalue()


def data_uri(png: bytes) -> str:
    """``data:image/png;base64,...`` for an <img src>."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _money(v: float) -> str:
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:.1f}M"
    if a >= 1e3:
        return f"{v / 1e3:.0f}k"
    return f"{v:.0f}"


def coverage_bars(
    labels: Sequence[str],
    ratios: Sequence[float | None],
    target: float | None,
    title: str = "Pipeline coverage",
) -> bytes:
    """Horizontal bars of coverage ratios with the target as a dashed line."""
    plt = _plt()
    n = max(len(labels), 1)
    fig, ax = plt.subplots(figsize=(6.4, min(0.28 * n + 0.9, 6.5)))
    vals = [0.0 if r is None else float(r) for r in ratios]
    colors = [_GREY if r is None else (_GREEN if target is None or r >= target else _RED) for r in ratios]
    ax.barh(range(len(vals)), vals, color=colors)
    ax.set_yticks(range(len(vals)), labels=list(labels))
    ax.invert_yaxis()
    for i, r in enumerate(ratios):
        ax.text(vals[i], i, " n/a" if r is None else f" {r:.2f}x", va="center", fontsize=7)
    if target is not None:
        ax.axvline(target, color=_AMBER, linestyle="--", linewidth=1, label=f"target {target:g}x")
        ax.legend(fontsize=7, frameon=False, loc="lower right")
    ax.set_xlabel("open pipeline / quota")
    ax.set_title(title, loc="left", fontsize=9)
    return _png(fig)


def waterfall(steps: Sequence[tuple[str, float, bool]], title: str = "Pipeline movement") -> bytes:
    """A waterfall: ``steps`` = (label, amount, is_total); totals are drawn from zero, flows float."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.8, 2.9))
    running = 0.0
    for i, (_label, amount, is_total) in enumerate(steps):
        if is_total:
            bottom, height, color = 0.0, amount, _BLUE
            running = amount
        else:
            bottom = running if amount >= 0 else running + amount
            height, color = abs(amount), (_GREEN if amount >= 0 else _RED)
            running += amount
        ax.bar(i, height, bottom=bottom, color=color, width=0.7)
        ax.text(i, bottom + height, _money(amount), ha="center", va="bottom", fontsize=6.5)
    ax.set_xticks(range(len(steps)), labels=[s[0] for s in steps], rotation=35, ha="right")
    ax.yaxis.set_major_formatter(lambda v, _p: _money(v))
    ax.set_title(title, loc="left", fontsize=9)
    return _png(fig)


def trend_lines(
    x: Sequence[str],
    series: dict[str, Sequence[float | None]],
    title: str,
    ylabel: str = "",
    percent: bool = False,
    target: float | None = None,
) -> bytes:
    """One line per series over ``x`` (missing points are gaps); optional dashed target."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 2.6))
    for (name, ys), color in zip(
        series.items(), [_BLUE, _GREEN, _RED, _AMBER, _GREY, "#6b46c1", "#2c7a7b"], strict=False
    ):
        vals = [float("nan") if v is None else float(v) * (100 if percent else 1) for v in ys]
        ax.plot(range(len(x)), vals, marker="o", markersize=3, label=name, color=color)
    if target is not None:
        ax.axhline(
            target * (100 if percent else 1), color=_AMBER, linestyle="--", linewidth=1, label="target"
        )
    ax.set_xticks(range(len(x)), labels=list(x), rotation=30, ha="right")
    if percent:
        ax.yaxis.set_major_formatter(lambda v, _p: f"{v:.1f}%")
    ax.set_ylabel(ylabel)
    ax.set_title(title, loc="left", fontsize=9)
    if len(series) > 1 or target is not None:
        ax.legend(fontsize=6.5, frameon=False, loc="best")
    return _png(fig)


def grouped_bars(categories: Sequence[str], series: dict[str, Sequence[float]], title: str) -> bytes:
    """Side-by-side bars per category (e.g. forecast category a week ago vs now)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 2.6))
    k = max(len(series), 1)
    width = 0.8 / k
    for j, ((name, ys), color) in enumerate(zip(series.items(), [_GREY, _BLUE, _GREEN], strict=False)):
        ax.bar(
            [i + j * width for i in range(len(categories))],
            [float(v) for v in ys],
            width=width,
            label=name,
            color=color,
        )
    ax.set_xticks([i + width * (k - 1) / 2 for i in range(len(categories))], labels=list(categories))
    ax.yaxis.set_major_formatter(lambda v, _p: _money(v))
    ax.set_title(title, loc="left", fontsize=9)
    ax.legend(fontsize=6.5, frameon=False)
    return _png(fig)
