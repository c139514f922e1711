"""Benchmark items: RewardBench, RM-Bench and RewardBench 2, read in their published formats.

- RewardBench: one pair per record, ``prompt``, ``chosen``, ``rejected``, ``subset`` (``id``
  optional). Its subsets group into the sections rewardbench prints (``Chat``, ``Chat Hard``,
  ``Safety``, ``Reasoning``); subsets rewardbench does not know are reported in an ``other``
  section (:mod:`patarm.workflow.evaluation.metrics`).
- RM-Bench: one item per record, ``prompt``, ``chosen`` and ``rejected`` (three responses each,
  in the styles concise, detailed plain text, detailed markdown) and ``domain`` (``chat``,
  ``math``, ``code``, ``safety-refuse``, ``safety-response``: the last two are reported as
  ``safety``).
- RewardBench 2: one item per record, ``id``, ``prompt``, ``chosen`` and ``rejected`` (lists:
  one chosen and three rejected responses; more of both in the Ties subset), ``subset``,
  ``num_correct`` (optional): see :mod:`patarm.workflow.evaluation.rewardbench2`.

The published datasets can be read by name (``allenai/reward-bench``, ``THU-KEG/RM-Bench``,
``allenai/reward-bench-2``): see :mod:`patarm.workflow.evaluation.benchmarks` for the field mapping.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..._core import DEFAULT_DOMAIN
from ..data.io import DataError, PathLike, check_id, read_records

STYLES = ("concise", "detailed", "markdown")

# rewardbench 0.1.4, rewardbench/constants.py: SUBSET_MAPPING (section -> subsets, in its order).
REWARDBENCH_SECTIONS: dict[str, tuple[str, ...]] = {
    "Chat": ("alpacaeval-easy", "alpacaeval-length", "alpacaeval-hard", "mt-bench-easy", "mt-bench-med"),
    "Chat Hard": (
        "mt-bench-hard",
        "llmbar-natural",
        "llmbar-adver-neighbor",
        "llmbar-adver-GPTInst",
        "llmbar-adver-GPTOut",
        "llmbar-adver-manual",
    ),
    "Safety": (
        "refusals-dangerous",
        "refusals-offensive",
        "xstest-should-refuse",
        "xstest-should-respond",
        "donotanswer",
    ),
    "Reasoning": ("math-prm", "hep-cpp", "hep-go", "hep-java", "hep-js", "hep-python", "hep-rust"),
}
SUBSET_TO_SECTION = {subset: section for section, subsets in REWARDBENCH_SECTIONS.items() for subset in subsets}
RMBENCH_DOMAINS = ("chat", "math", "code", "safety")


@dataclass(frozen=True)
class Item:
    """One benchmark entry: a RewardBench pair (one style) or an RM-Bench item (three styles).
    ``group`` is the RewardBench subset or the RM-Bench domain."""

    id: str
    prompt: str
    chosen: tuple[str, ...]
    rejected: tuple[str, ...]
    group: str

    def __repr__(self) -> str:
        return f"Item(id={self.id!r}, group={self.group!r}, styles={len(self.chosen)})"


BENCHMARK_FORMATS = ("rewardbench", "rmbench", "rewardbench2", "judgebench")


def judge_domain(benchmark: str, group: str) -> str:
    """The rubric domain to judge an item with."""
    if benchmark == "rmbench":
        return rmbench_domain(group)
    if benchmark == "judgebench":
        from .judgebench import judgebench_domain

        return judgebench_domain(group)
    if benchmark == "rewardbench2":
        from .rewardbench2 import rb2_domain

        return rb2_domain(group)
    if group == "math-prm":
        return "math"
    if group.startswith("hep-"):
        return "code"
    return "safety" if SUBSET_TO_SECTION.get(group) == "Safety" else DEFAULT_DOMAIN


def rmbench_domain(domain: str) -> str:
    return "safety" if domain.startswith("safety") else domain


def detect_benchmark(records: Sequence[tuple[str, dict[str, Any]]]) -> str:
    if not records:
        raise DataError("the benchmark file is empty")
    where, first = records[0]
    if "response_A" in first and "label" in first:
        return "judgebench"
    if isinstance(first.get("chosen"), (list, tuple)):
        return "rewardbench2" if "subset" in first and "domain" not in first else "rmbench"
    if "subset" in first:
        return "rewardbench"
    raise DataError(
        f"{where}: cannot tell the benchmark: RewardBench records have 'subset' and string responses, "
        "RM-Bench records have three 'chosen' and three 'rejected' responses and 'domain', RewardBench 2 "
        "records have lists of responses and 'subset', JudgeBench records have 'response_A', 'response_B' "
        "and 'label'; pass --benchmark"
    )


def load_benchmark(
    path: PathLike, benchmark: str = "auto", *, dataset_path: PathLike | None = None, split: str | None = None
) -> tuple[str, list[Item]]:
    """Read a benchmark: a local RewardBench, RM-Bench or RewardBench 2 file, or a published
    dataset by name (``allenai/reward-bench``, ``THU-KEG/RM-Bench``, ``allenai/reward-bench-2``,
    ``ScalerLab/JudgeBench``, read with ``datasets``; ``dataset_path`` reads a local copy in its
    place, ``split`` picks another published split). Returns
    (benchmark format, items)."""
    from .benchmarks import is_published_name, load_published

    if is_published_name(path):
        found, items = load_published(str(path), dataset_path=dataset_path, split=split)
        if benchmark not in ("auto", found):
            raise ValueError(f"{path} is a {found} benchmark, not {benchmark!r}; drop --benchmark")
        return found, items
    if split is not None:
        raise ValueError(f"--split is for a benchmark given by name, not for the local file {path}")
    if dataset_path is not None:
        raise ValueError(
            f"--dataset-path is for a benchmark given by name ({', '.join(_published_names())}), "
            f"not for the local file {path}"
        )
    records = read_records(path)
    if not records:
        raise DataError(f"{path}: no benchmark items in the file (it is empty)")
    if benchmark == "auto":
        benchmark = detect_benchmark(records)
    return benchmark, items_from_records(records, benchmark)


def _published_names() -> list[str]:
    from .benchmarks import PUBLISHED

    return list(PUBLISHED)


def items_from_records(records: Sequence[tuple[str, dict[str, Any]]], benchmark: str) -> list[Item]:
    """Benchmark items from ``(location, record)`` pairs in the benchmark's published format."""
    if benchmark not in BENCHMARK_FORMATS:
        raise ValueError(
            f"unknown benchmark {benchmark!r}; use 'rewardbench', 'rmbench', 'rewardbench2', 'judgebench' or 'auto'"
        )
    if benchmark == "judgebench":
        from .judgebench import judgebench_items

        return judgebench_items(records)
    styles = {"rmbench": 3, "rewardbench": 1}.get(benchmark)  # None: lists of any length
    group_key = "domain" if benchmark == "rmbench" else "subset"
    items, seen = [], set()
    for index, (where, record) in enumerate(records):
        for key in ("prompt", "chosen", "rejected", group_key):
            if record.get(key) is None:
                raise DataError(f"{where}: missing field {key!r} ({benchmark} format)")
        sides = []
        for key in ("chosen", "rejected"):
            value = record[key]
            if styles is None:
                if not isinstance(value, (list, tuple)) or not value or not all(isinstance(v, str) for v in value):
                    raise DataError(f"{where}: field {key!r} must be a non-empty list of strings")
            else:
                value = list(value) if isinstance(value, (list, tuple)) else [value]
                if len(value) != styles or not all(isinstance(v, str) for v in value):
                    want = "three strings (concise, detailed, markdown)" if styles == 3 else "a string"
                    raise DataError(f"{where}: field {key!r} must be {want}")
            sides.append(tuple(value))
        if not isinstance(record["prompt"], str):
            raise DataError(f"{where}: field 'prompt' must be a string")
        item_id = str(check_id(record.get("id", index), where, "id"))
        if item_id in seen:
            raise DataError(f"{where}: field 'id': {item_id!r} repeats; ids must be unique")
        seen.add(item_id)
        group = str(record[group_key])
        if benchmark == "rmbench" and rmbench_domain(group) not in RMBENCH_DOMAINS:
            raise DataError(
                f"{where}: field 'domain': unknown RM-Bench domain {group!r}; "
                f"expected one of chat, math, code, safety-refuse, safety-response"
            )
        if benchmark == "rewardbench2":
            from .rewardbench2 import check_rb2_item

            check_rb2_item(where, item_id, group, sides[0], record.get("num_correct"))
        items.append(Item(item_id, record["prompt"], sides[0], sides[1], group))
    return items


__all__ = [
    "BENCHMARK_FORMATS",
    "Item",
    "REWARDBENCH_SECTIONS",
    "RMBENCH_DOMAINS",
    "STYLES",
    "SUBSET_TO_SECTION",
    "detect_benchmark",
    "items_from_records",
    "judge_domain",
    "load_benchmark",
    "rmbench_domain",
]
