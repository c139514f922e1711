"""The evaluation report: a JSON-ready dict that renders as HTML tables in Jupyter, and its
conversion to the result files of rewardbench's leaderboards."""

from __future__ import annotations

import html
import json
import math
from typing import Any

from ..data.io import PathLike, atomic_path, json_safe
from .render import report_table


class EvaluationReport(dict):
    """What :func:`patarm.workflow.evaluation.evaluate.evaluate_scores` returns: the JSON report as a dict (read
    and written as before), shown in Jupyter as the tables ``patarm evaluate`` prints."""

    def __repr__(self) -> str:
        primary = self.get("primary") or {}
        score = primary.get("score")
        shown = "nan" if not isinstance(score, float) or math.isnan(score) else f"{score:.4f}"
        return (
            f"EvaluationReport(benchmark={self.get('benchmark')!r}, items={self.get('items')!r}, "
            f"n={self.get('n')!r}, score={shown} ({primary.get('method')}@{primary.get('n')}))"
        )

    def _repr_html_(self) -> str:
        title, header, rows = report_table(self)
        head = "".join(f"<th>{html.escape(str(cell))}</th>" for cell in header)
        body = "".join(
            "<tr>"
            + "".join(
                f'<td style="text-align:{"left" if i == 0 else "right"}">{html.escape(str(cell).strip())}</td>'
                for i, cell in enumerate(row)
            )
            + "</tr>"
            for row in rows
        )
        return (
            f'<div class="patarm-report"><p><b>{html.escape(title)}</b></p>'
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
        )


def _vote_block(report: dict[str, Any], method: str | None, n: int | None) -> tuple[str, str, dict[str, Any]]:
    method = method or report["primary"]["method"]
    n_key = str(n if n is not None else report["primary"]["n"])
    results = report["results"]
    if method not in results or n_key not in results[method]:
        available = ", ".join(f"{m}@{k}" for m in results for k in results[m])
        raise ValueError(f"no {method}@{n_key} in this report; it has {available}")
    return method, n_key, results[method][n_key]


def rewardbench_results(
    report: dict[str, Any],
    *,
    model: str,
    model_type: str = "Generative RM",
    chat_template: str | None = None,
    method: str | None = None,
    n: int | None = None,
) -> dict[str, Any]:
    """The report as one of rewardbench's leaderboard result files (``results/eval-set/<model>.json``
    of rewardbench 0.1.4's ``save_to_hub``): ``model``, ``model_type``, ``chat_template`` and
    every subset's accuracy under its own name, for one voting method and n (default: the
    report's primary, mean voting with all judgements). RewardBench 2 files have the same
    layout with its six subsets (Ties: its composite score), as ``scripts/run_v2.py`` and
    ``run_generative_v2.py`` write them."""
    if report["benchmark"] not in ("rewardbench", "rewardbench2"):
        raise ValueError(
            f"--format rewardbench is for RewardBench and RewardBench 2 reports, not {report['benchmark']}"
        )
    _, _, block = _vote_block(report, method, n)
    out: dict[str, Any] = {"model": model, "model_type": model_type, "chat_template": chat_template}
    for subset, values in block["subsets"].items():
        out[subset] = values["accuracy"]
    return out


def write_rewardbench_json(results: dict[str, Any], path: PathLike) -> None:
    """Written as rewardbench writes it: ``json.dumps(indent=4, sort_keys=True)`` (NaN as null)."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(json_safe(results), indent=4, sort_keys=True))


__all__ = ["EvaluationReport", "rewardbench_results", "write_rewardbench_json"]
