"""Keeping the two rows of a preference pair in the same verl batch.

- verl >= 0.8 (no sampler hook): ``PairShuffledDataset``, a ``data.custom_cls`` dataset that
  reads the data like verl's ``RLHFDataset`` and serves the rows in a random order *of pairs*
  (pair_permutation, reshuffled every epoch), with ``data.shuffle=False`` so verl reads it in order.
- verl <= 0.7.1: ``PairSampler``, a ``data.sampler.class_path`` sampler doing the same.
- ``check_pair_batch_sizes(data_config)``: a batch size that would split pairs (odd train or
  validation batch, shuffled validation batches) raises at start-up, not as silent mis-pairing.

Pairs are found by (data source, ``extra_info.pair_id``), not by position, so rows dropped by
``filter_overlong_prompts`` cannot shift the pairing; a pair that lost a row is left out (logged).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from torch.utils.data import Sampler
from verl.utils.dataset.rl_dataset import RLHFDataset

from ..sampling import check_pair_batch_size, pair_permutation
from ._rows import PAIRWISE_SIDES, POINTWISE_SIDES, _plain

logger = logging.getLogger(__name__)

try:  # verl <= 0.7.1: the sampler hook and its base class
    from verl.experimental.dataset.sampler import AbstractSampler as _SamplerBase
except ImportError:  # verl >= 0.8: no sampler hook; the class still works as a torch Sampler
    _SamplerBase = Sampler

#: Extra ``data.*`` keys read by patarm (add them with ``+data.<key>=...`` on verl's command line).
EPOCHS_KEY = "pair_epochs"
SEED_KEY = "pair_seed"


def check_pair_batch_sizes(data_config: Mapping[str, Any], *, shuffled_by_verl: bool = False) -> None:
    """Raises ValueError, naming the setting and the fix, when verl's batching could split pairs.

    ``shuffled_by_verl``: the rows are not pair-ordered by patarm, so ``data.shuffle=True``
    would scatter them (true for ``PairShuffledDataset``, which shuffles pairs itself)."""
    for key in ("train_batch_size", "gen_batch_size"):
        value = data_config.get(key)
        if value is not None:
            check_pair_batch_size(value, name=f"data.{key}")
    val_batch_size = data_config.get("val_batch_size")
    if val_batch_size is not None:
        check_pair_batch_size(val_batch_size, name="data.val_batch_size")
        if data_config.get("validation_shuffle", True):
            raise ValueError(
                "data.val_batch_size is set and data.validation_shuffle is True: validation batches would split "
                "pairs. Set data.validation_shuffle=False (the validation file is pair-ordered), or leave "
                "data.val_batch_size=null (one validation batch, where order does not matter)."
            )
    if shuffled_by_verl and data_config.get("shuffle", False):
        raise ValueError(
            "data.shuffle=True would shuffle single rows and split pairs. Set data.shuffle=False: "
            "patarm's dataset already serves a random order of whole pairs, reshuffled every epoch."
        )


def _file_list(files: Any) -> list[str]:
    if files is None:
        return []
    return [str(files)] if isinstance(files, (str, bytes)) else [str(f) for f in files]


def is_validation_files(data_files: Any, data_config: Mapping[str, Any]) -> bool:
    """True when verl builds the validation set: `data_files` are ``data.val_files`` and not
    also ``data.train_files`` (verl passes no other sign to a custom dataset class)."""
    files = _file_list(data_files)
    return files == _file_list(data_config.get("val_files")) and files != _file_list(data_config.get("train_files"))


def pair_units(
    sources: Sequence[Any], extra_infos: Sequence[Any], reward_models: Sequence[Any] | None = None
) -> list[tuple[int, ...]]:
    """Groups row indices into units kept together: (chosen, rejected) per pointwise pair, in
    first-seen order; a pairwise row (side A/B) is a unit alone. Incomplete pairs are dropped."""
    pairs: dict[tuple, dict[str, int]] = {}
    units: list[tuple[int, ...]] = []
    order: list[tuple] = []
    for row, (source, extra) in enumerate(zip(sources, extra_infos, strict=True)):
        extra = extra if isinstance(extra, Mapping) else {}
        side = _plain(extra.get("side"))
        if side is None and reward_models is not None and isinstance(reward_models[row], Mapping):
            side = _plain(reward_models[row].get("ground_truth"))
        pair_id = _plain(extra.get("pair_id"))
        if side in PAIRWISE_SIDES:
            units.append((row,))
            continue
        if pair_id is None or side not in POINTWISE_SIDES:
            raise ValueError(
                f"row {row} lacks extra_info['pair_id'] or a side ('chosen'/'rejected'); got pair_id={pair_id!r}, "
                f"side={side!r}. Build the data with patarm's data step."
            )
        key = (str(_plain(source)), pair_id)
        if key not in pairs:
            pairs[key] = {}
            order.append(key)
        if side in pairs[key]:
            raise ValueError(
                f"pair {pair_id!r} of {key[0]!r} has two {side!r} rows (rows {pairs[key][side]} and {row})"
            )
        pairs[key][side] = row
    incomplete = 0
    for key in order:
        sides = pairs[key]
        if len(sides) == 2:
            units.append((sides["chosen"], sides["rejected"]))
        else:
            incomplete += 1
    if incomplete:
        logger.warning("patarm: %d pairs lost a row (filtered or missing) and are left out", incomplete)
    return units


def unit_order(num_units: int, seed: int, epoch: int) -> np.ndarray:
    """A permutation of units, from patarm's platform-independent pair permutation."""
    if num_units == 0:
        return np.zeros(0, dtype=np.int64)
    return pair_permutation(2 * num_units, seed, epoch)[::2] // 2


def _units_of_dataframe(dataframe: Any) -> list[tuple[int, ...]]:
    columns = dataframe.column_names
    sources = dataframe["data_source"] if "data_source" in columns else [None] * len(dataframe)
    extra = dataframe["extra_info"] if "extra_info" in columns else [None] * len(dataframe)
    reward_models = dataframe["reward_model"] if "reward_model" in columns else None
    return pair_units(list(sources), list(extra), None if reward_models is None else list(reward_models))


class PairShuffledDataset(RLHFDataset):
    """verl's ``RLHFDataset`` serving whole pairs in a random order that changes every epoch.

    Use with ``data.custom_cls.path=pkg://patarm.verl.data``, ``data.custom_cls.name=PairShuffledDataset``
    and ``data.shuffle=False``. The order is a pure function of (``data.pair_seed`` or
    ``data.seed``, epoch). verl reads a dataset in order with shuffling off, so to reshuffle each
    epoch the dataset itself spans ``data.pair_epochs`` epochs (default 1): set
    ``+data.pair_epochs=E`` together with ``trainer.total_epochs=1`` to train E reshuffled epochs.

    verl builds the validation set with the same ``data`` config and class; it is recognised by
    its files (``data.val_files``, when they are not also the training files) and served as is,
    once, whatever ``pair_epochs`` says (pair order does not matter inside one batch)."""

    def __init__(
        self, data_files: Any, tokenizer: Any, config: Any, processor: Any = None, max_samples: int = -1
    ) -> None:
        self.is_validation = is_validation_files(data_files, config)
        self.pair_epochs = int(config.get(EPOCHS_KEY, 1) or 1)
        if self.pair_epochs < 1:
            raise ValueError(f"data.{EPOCHS_KEY} must be >= 1, got {self.pair_epochs}")
        if self.is_validation:
            self.pair_epochs = 1
        seed = config.get(SEED_KEY)
        self.pair_seed = int(seed if seed is not None else (config.get("seed") or 0))
        check_pair_batch_sizes(config, shuffled_by_verl=True)
        super().__init__(
            data_files=data_files, tokenizer=tokenizer, config=config, processor=processor, max_samples=max_samples
        )

    def _read_files_and_tokenize(self) -> None:
        super()._read_files_and_tokenize()
        self._build_order()

    def _build_order(self) -> None:
        if self.is_validation:  # as verl's RLHFDataset serves it
            self.units = []
            self.rows = np.arange(len(self.dataframe), dtype=np.int64)
            return
        units = _units_of_dataframe(self.dataframe)
        self.units = units
        epochs = []
        for epoch in range(self.pair_epochs):
            order = unit_order(len(units), self.pair_seed, epoch)
            epochs.append(np.fromiter((row for u in order for row in units[u]), dtype=np.int64))
        self.rows = np.concatenate(epochs) if epochs else np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, item: int) -> dict:
        return super().__getitem__(int(self.rows[item]))


class PairSampler(_SamplerBase):
    """A verl <= 0.7.1 sampler (``data.sampler.class_path=pkg://patarm.verl.data``,
    ``data.sampler.class_name=PairSampler``) yielding whole pairs in a random order, reshuffled
    each epoch. Needs ``data.dataloader_num_workers=0`` (verl's rule for custom samplers)."""

    def __init__(self, data_source: Any, data_config: Mapping[str, Any]) -> None:
        check_pair_batch_sizes(data_config)  # data.shuffle is moot: this sampler replaces verl's
        seed = data_config.get(SEED_KEY)
        self.seed = int(seed if seed is not None else (data_config.get("seed") or 0))
        dataframe = getattr(data_source, "dataframe", None)
        if dataframe is not None:
            self.units = _units_of_dataframe(dataframe)
        else:  # a plain sized source laid out as (chosen, rejected) rows
            self.units = [(2 * k, 2 * k + 1) for k in range(len(data_source) // 2)]
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __iter__(self) -> Iterator[int]:
        order = unit_order(len(self.units), self.seed, self.epoch)
        self.epoch += 1
        return (row for u in order.tolist() for row in self.units[u])

    def __len__(self) -> int:
        return sum(len(u) for u in self.units)

    def __repr__(self) -> str:
        return f"PairSampler(units={len(self.units)}, seed={self.seed}, epoch={self.epoch})"
