"""An evaluation report rendered: its tables (the terminal's text, Jupyter's HTML) and its plot."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..._optional import require_matplotlib
from ..data.io import PathLike
from .items import SUBSET_TO_SECTION
from .metrics import METHODS, OTHER_SECTION


def _pct(value: float) -> str:
    return "   -  " if value is None or (isinstance(value, float) and math.isnan(value)) else f"{100 * value:6.2f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    line = "+".join("-" * (w + 2) for w in widths)

    def fmt(cells: Sequence[str]) -> str:
        return "|".join(
            f" {str(c):>{w}} " if i else f" {str(c):<{w}} " for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([fmt(header), line, *(fmt(r) for r in rows)])


def report_table(report: dict[str, Any]) -> tuple[str, list[str], list[list[str]]]:
    """A report's title, table header and rows (accuracy %), for the terminal and for HTML."""
    ns = [str(n) for n in report["n"]]
    res = report["results"]
    columns = [f"{m}@{n}" for m in METHODS for n in ns]
    ties = "ties count as half a win" if report.get("ties") == "half" else "ties count as wrong"
    title = (
        f"{report['benchmark']}: {report['items']} items, {report['judgements_per_response']} judgements per "
        f"response, {100 * report['valid_judgement_rate']:.1f}% valid (accuracy %, {ties})"
    )
    consistency = (report.get("pairwise") or {}).get("position_consistency")
    if report.get("judge") == "pairwise":  # judgements per pair and order
        title = title.replace("per response", "per pair and order") + (
            "" if consistency is None else f"; position consistency {100 * consistency:.1f}%"
        )
    if report["benchmark"] == "rewardbench":
        first = res["mean"][ns[0]]
        rows = []
        for section in first["sections"]:
            rows.append([section] + [_pct(res[m][n]["sections"][section]) for m in METHODS for n in ns])
            for subset in first["subsets"]:
                if SUBSET_TO_SECTION.get(subset, OTHER_SECTION) == section:
                    rows.append(
                        [f"  {subset} ({first['subsets'][subset]['pairs']})"]
                        + [_pct(res[m][n]["subsets"][subset]["accuracy"]) for m in METHODS for n in ns]
                    )
        rows.append(["score (mean of sections)"] + [_pct(res[m][n]["score"]) for m in METHODS for n in ns])
        return title, ["section / subset (pairs)", *columns], rows
    if report["benchmark"] == "judgebench":
        first = res["mean"][ns[0]]
        rows = [
            [f"{category} ({first['categories'][category]['pairs']})"]
            + [_pct(res[m][n]["categories"][category]["accuracy"]) for m in METHODS for n in ns]
            for category in first["categories"]
        ]
        rows.append([f"overall ({first['pairs']})"] + [_pct(res[m][n]["score"]) for m in METHODS for n in ns])
        return title, ["category (pairs)", *columns], rows
    if report["benchmark"] == "rewardbench2":
        first = res["mean"][ns[0]]
        rows = [
            [f"{subset} ({first['subsets'][subset]['items']})"]
            + [_pct(res[m][n]["subsets"][subset]["accuracy"]) for m in METHODS for n in ns]
            for subset in first["subsets"]
        ]
        rows.append(["score (mean of subsets)"] + [_pct(res[m][n]["score"]) for m in METHODS for n in ns])
        return title, ["subset (items)", *columns], rows
    rows = []
    for method in METHODS:
        for n in ns:
            block = res[method][n]
            for domain, d in block["domains"].items():
                rows.append(
                    [f"{method}@{n}", domain, _pct(d["easy"]), _pct(d["normal"]), _pct(d["hard"]), _pct(d["accuracy"])]
                )
            a = block["average"]
            rows.append(
                [f"{method}@{n}", "average", _pct(a["easy"]), _pct(a["normal"]), _pct(a["hard"]), _pct(a["accuracy"])]
            )
    return title, ["vote", "domain", "easy", "normal", "hard", "avg"], rows


def format_report(report: dict[str, Any]) -> str:
    """The pretty terminal tables of a report."""
    title, header, rows = report_table(report)
    return "\n".join([title, "", _table(header, rows)])


def plot_report(report: dict[str, Any], path: PathLike) -> None:
    """A PNG: accuracy against n (mean and majority voting), and the score-gap distribution."""
    require_matplotlib().use("Agg")
    import matplotlib.pyplot as plt

    from ..data.io import atomic_path

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    ns = report["n"]
    for method in METHODS:
        ys = [100 * report["results"][method][str(n)]["score"] for n in ns]
        left.plot(ns, ys, marker="o", label=f"{method} voting")
    left.set_xscale("log", base=2)
    left.set_xticks(ns)
    left.set_xticklabels([str(n) for n in ns])
    left.set_xlabel("judgements per response (n)")
    left.set_ylabel("accuracy (%)")
    left.set_title(f"{report['benchmark']}: accuracy vs n")
    left.legend()
    gaps = [g for g in report["score_gaps"] if g is not None]
    right.hist(gaps, bins=min(40, max(5, len(gaps) // 2 or 1)), color="tab:gray")
    right.axvline(0.0, color="tab:red", linestyle="--")
    right.set_xlabel(
        "mean chosen score - mean rejected score"
        + (" (lowest chosen - highest rejected)" if report["benchmark"] == "rewardbench2" else "")
    )
    right.set_ylabel({"rmbench": "responses", "rewardbench2": "items"}.get(report["benchmark"], "pairs"))
    right.set_title("score gap")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


__all__ = ["format_report", "plot_report", "report_table"]
