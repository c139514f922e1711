"""Benchmarks by name: the published RewardBench, RM-Bench and RewardBench 2 datasets.

``patarm evaluate allenai/reward-bench`` (and :func:`load_published`) reads a benchmark with
``datasets.load_dataset(name, config, split=split)``, the call rewardbench's own loaders make,
and maps its fields onto patarm's items (:class:`patarm.workflow.evaluation.items.Item`):

=====================  =========  ==========================================================
name                   split      fields -> item
=====================  =========  ==========================================================
allenai/reward-bench   filtered   ``id`` (int) -> id; ``prompt`` (str); ``chosen`` (str) and
                                  ``rejected`` (str) -> one response each; ``subset`` -> the
                                  subset (sections from rewardbench's ``SUBSET_MAPPING``);
                                  ``chosen_model`` / ``rejected_model`` are not used. The
                                  2985 filtered pairs are the ones rewardbench scores
                                  (``load_eval_dataset`` reads ``split="filtered"``).
THU-KEG/RM-Bench       train      ``id``; ``prompt``; ``chosen`` and ``rejected``: lists of
                                  three responses in the styles concise, detailed plain text,
                                  detailed markdown -> rows and columns 0, 1, 2 of the 3x3
                                  matrix; ``domain`` (chat, code, math, safety-refuse,
                                  safety-response; the last two are reported as safety).
                                  The repository's one data file loads as the ``train`` split.
ScalerLab/JudgeBench   gpt        ``pair_id``; ``question`` -> prompt; ``response_A`` and
                       (claude)   ``response_B`` -> chosen and rejected by ``label`` (``A>B``
                                  or ``B>A``); ``source`` -> the group (categories by prefix:
                                  :mod:`patarm.workflow.evaluation.judgebench`). Two splits:
                                  ``gpt`` (350 pairs of GPT-4o responses, the default) and
                                  ``claude`` (``--split claude``).
allenai/reward-bench-2 test       ``id`` (str; ``ref:N`` / ``tied:N`` in Ties); ``prompt``;
                                  ``chosen`` (list: one response, several in Ties);
                                  ``rejected`` (list: three, more in Ties); ``num_correct``
                                  (= len(chosen), checked); ``subset`` (Factuality,
                                  Precise IF, Math, Safety, Focus, Ties). ``num_incorrect``,
                                  ``total_completions``, ``models``, ``additional_metadata``
                                  are not used. rewardbench's ``load_eval_dataset_multi`` and
                                  ``load_bon_dataset_v2`` read ``split="test"``.
=====================  =========  ==========================================================

The machine running an evaluation may not reach the Hugging Face hub: ``dataset_path`` (CLI
``--dataset-path``) replaces the name in the same ``load_dataset`` call, so a local copy of the
repository (a directory with its ``data/<split>-*.parquet`` files, or any path
``load_dataset`` accepts) is read exactly as the hub copy would be. A directory written by
``Dataset.save_to_disk`` (or a ``DatasetDict``'s) is read with ``load_from_disk`` instead.

``datasets`` is an optional dependency: ``pip install 'patarm[eval]'``.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..data.io import PathLike


@dataclass(frozen=True)
class PublishedBenchmark:
    """Where a published benchmark lives and which patarm format its records have."""

    name: str
    benchmark: str
    split: str
    config: str | None = None
    other_splits: tuple[str, ...] = ()  # further splits a caller may pick (``--split``)

    def __repr__(self) -> str:
        return f"PublishedBenchmark({self.name!r}, split={self.split!r}, format={self.benchmark!r})"


PUBLISHED = {
    spec.name: spec
    for spec in (
        PublishedBenchmark("allenai/reward-bench", "rewardbench", "filtered"),
        PublishedBenchmark("THU-KEG/RM-Bench", "rmbench", "train"),
        PublishedBenchmark("allenai/reward-bench-2", "rewardbench2", "test"),
        PublishedBenchmark("ScalerLab/JudgeBench", "judgebench", "gpt", other_splits=("claude",)),
    )
}


def is_published_name(source: PathLike) -> bool:
    """True for a published benchmark's name that is not also a local file."""
    return str(source) in PUBLISHED and not Path(source).exists()


def _import_datasets():
    from ..._optional import require_datasets

    return require_datasets()


def load_published_dataset(name: str, *, dataset_path: PathLike | None = None, split: str | None = None):
    """The published benchmark's split as a ``datasets.Dataset`` (``dataset_path``: a local
    copy to read in place of the hub; ``split``: another of its splits, JudgeBench's ``claude``)."""
    if name not in PUBLISHED:
        raise ValueError(f"unknown benchmark name {name!r}; known: {', '.join(PUBLISHED)} (or pass a local file)")
    spec = _with_split(PUBLISHED[name], split)
    datasets = _import_datasets()
    source = name if dataset_path is None else os.fspath(dataset_path)
    if dataset_path is not None and not Path(source).exists():
        raise FileNotFoundError(f"--dataset-path {source}: no such file or directory")
    if dataset_path is not None and _is_saved_to_disk(Path(source)):
        loaded = datasets.load_from_disk(source)
        if isinstance(loaded, datasets.DatasetDict):
            if spec.split not in loaded:
                raise ValueError(f"{source}: has splits {sorted(loaded)}, not {spec.split!r} (the split {name} uses)")
            loaded = loaded[spec.split]
        return loaded
    if dataset_path is None:
        return datasets.load_dataset(source, spec.config, split=spec.split)
    # datasets' cache keys a local copy by its directory name, so another copy in a directory of
    # the same name would be served stale: a local copy is prepared in a cache of its own and
    # held in memory (the benchmarks are a few MB)
    with tempfile.TemporaryDirectory(prefix="patarm-datasets-") as cache_dir:
        return datasets.load_dataset(source, spec.config, split=spec.split, cache_dir=cache_dir, keep_in_memory=True)


def _with_split(spec: PublishedBenchmark, split: str | None) -> PublishedBenchmark:
    if split is None or split == spec.split:
        return spec
    if split not in spec.other_splits:
        known = ", ".join((spec.split, *spec.other_splits))
        raise ValueError(f"--split {split!r}: {spec.name} is scored on the split {known}; drop --split or pick one")
    return PublishedBenchmark(spec.name, spec.benchmark, split, spec.config, spec.other_splits)


def _is_saved_to_disk(path: Path) -> bool:
    # save_to_disk writes dataset_info.json + state.json, or dataset_dict.json for a DatasetDict
    return path.is_dir() and ((path / "state.json").exists() or (path / "dataset_dict.json").exists())


def load_published(name: str, *, dataset_path: PathLike | None = None, split: str | None = None) -> tuple[str, list]:
    """Read a published benchmark; returns (patarm benchmark format, items)."""
    from .items import items_from_records

    dataset = load_published_dataset(name, dataset_path=dataset_path, split=split)
    spec = _with_split(PUBLISHED[name], split)
    records = ((f"{name}[{spec.split}] row {i}", row) for i, row in enumerate(dataset))
    return spec.benchmark, items_from_records(list(records), spec.benchmark)


__all__ = ["PUBLISHED", "PublishedBenchmark", "is_published_name", "load_published", "load_published_dataset"]
