"""Keeping pairs whole in TRL: the train sampler and the start-up checks of batch settings
and dataset layout."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from typing import Any

from ..sampling import check_pair_batch_size
from .reward import PAIRWISE_SIDES, POINTWISE_SIDES, logger, read_pair_columns

# ----------------------------------------------------------------------------------------------
# Keeping pairs whole: the sampler and the start-up checks
# ----------------------------------------------------------------------------------------------


class PairRepeatSampler:
    """TRL's ``RepeatSampler`` order, over whole pairs.

    Rows 2k and 2k+1 are pair k. The row order is :class:`patarm.PairRandomSampler`'s
    (:func:`patarm.pair_permutation` of (seed, epoch): shuffled pairs, each yielding its chosen
    then its rejected row; a new order every epoch), or dataset order with ``shuffle=False``.
    It is cut into chunks of ``prompts_per_batch`` rows (an even number, so a chunk holds whole
    pairs; an incomplete last chunk is dropped, as TRL does); each chunk is
    yielded ``repeat_count`` times, each row ``num_generations`` times in a row::

        c0 c0 c0 r0 r0 r0 c1 c1 c1 r1 r1 r1 | (repeat) ...     num_generations=3, prompts_per_batch=4

    Every process builds the same sampler with the same seed, so the processes agree on the
    order; accelerate hands each process a consecutive block of each generation batch.
    """

    def __init__(
        self,
        num_rows: int,
        *,
        num_generations: int,
        prompts_per_batch: int = 2,
        repeat_count: int = 1,
        shuffle: bool = True,
        seed: int | None = None,
    ) -> None:
        for name, value in (
            ("num_rows", num_rows),
            ("num_generations", num_generations),
            ("prompts_per_batch", prompts_per_batch),
            ("repeat_count", repeat_count),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < (0 if name == "num_rows" else 1):
                raise ValueError(f"PairRepeatSampler: {name} must be a positive integer, got {value!r}")
        check_pair_batch_size(prompts_per_batch, name="prompts_per_batch")  # a chunk holds whole pairs
        self.num_rows = num_rows
        self.num_generations = num_generations
        self.prompts_per_batch = prompts_per_batch
        self.repeat_count = repeat_count
        self.shuffle = shuffle
        # Every process must shuffle alike: TRL passes args.seed. Without one, draw it here.
        self.seed = seed if seed is not None else random.SystemRandom().randrange(2**63)
        self.epoch = 0
        self._paired_rows = num_rows - num_rows % 2  # an odd last row has no partner: never yielded

    def __repr__(self) -> str:
        return (
            f"PairRepeatSampler(rows={self.num_rows}, num_generations={self.num_generations}, "
            f"prompts_per_batch={self.prompts_per_batch}, repeat_count={self.repeat_count}, "
            f"shuffle={self.shuffle}, seed={self.seed})"
        )

    def set_epoch(self, epoch: int) -> None:
        """Called by the Trainer at each epoch: the shuffle depends on (seed, epoch)."""
        self.epoch = int(epoch)

    def row_order(self) -> list[int]:
        """One epoch's row order (pairs adjacent), before chunking and repetition."""
        if not self.shuffle:
            return list(range(self._paired_rows))
        from ..sampling import pair_permutation  # the PairRandomSampler order: a pure function of (seed, epoch)

        return pair_permutation(self._paired_rows, self.seed, self.epoch).tolist()

    def __iter__(self) -> Iterator[int]:
        order = self.row_order()
        self.epoch += 1  # a later epoch reshuffles even if nobody calls set_epoch
        size = self.prompts_per_batch
        for start in range(0, len(order) - size + 1, size):
            chunk = order[start : start + size]
            for _ in range(self.repeat_count):
                for row in chunk:
                    for _ in range(self.num_generations):
                        yield row

    def __len__(self) -> int:
        chunks = self._paired_rows // self.prompts_per_batch
        return chunks * self.prompts_per_batch * self.num_generations * self.repeat_count


def check_pair_batching(
    *,
    per_device_batch_size: int,
    steps_per_generation: int,
    num_generations: int,
    eval: bool = False,
) -> None:
    """Raise ``ValueError`` unless every process's generation batch holds whole pairs.

    TRL scores the completions of one generation batch per process: ``per_device_train_batch_size
    x steps_per_generation`` rows (eval: ``per_device_eval_batch_size``), cut from the global
    sampler order in consecutive blocks, one per process. With each row repeated
    ``num_generations`` times and the two rows of a pair adjacent, the blocks hold whole pairs
    exactly when their size is a multiple of ``2 x num_generations``, whatever the number of
    processes. Gradient accumulation splits the batch only after scoring, so it does not matter.
    """
    block = per_device_batch_size * steps_per_generation
    try:  # the whole-pairs rule, each row repeated num_generations times
        check_pair_batch_size(block, name="the scored block", repeats=num_generations)
    except ValueError:  # explained in TRL's settings
        pair_rows = 2 * num_generations
        if eval:
            setting = f"per_device_eval_batch_size={per_device_batch_size}"
            fix = f"Set per_device_eval_batch_size to a multiple of {pair_rows}."
            generations = "num_generations_eval"
        else:
            setting = (
                f"per_device_train_batch_size={per_device_batch_size} x steps_per_generation={steps_per_generation}"
            )
            smallest = pair_rows // math.gcd(pair_rows, steps_per_generation)
            fix = (
                f"Make per_device_train_batch_size x steps_per_generation a multiple of {pair_rows}, e.g. "
                f"per_device_train_batch_size={smallest} (or a multiple of it)."
            )
            generations = "num_generations"
        raise ValueError(
            f"PairGRPOTrainer: each process scores {block} completions at a time ({setting}), which is not a "
            f"multiple of 2 x {generations} = {pair_rows}: the chosen and rejected judge prompts of some pairs "
            f"would be scored in different batches and get no preference-aware reward. {fix}"
        ) from None


def _dataset_column(dataset: Any, name: str) -> list | None:
    names = getattr(dataset, "column_names", None)
    if names is not None and name in names:
        return list(dataset[name])
    return None


def check_pair_layout(
    dataset: Any,
    *,
    pair_id_column: str = "pair_id",
    side_column: str = "side",
    source_column: str | None = "data_source",
    what: str = "train_dataset",
) -> int:
    """Raise ``ValueError`` unless rows (2k, 2k+1) are the two sides of one pair; return the pair count.

    This is the layout of docs/method.md §1 (chosen row then rejected row), which ``patarm
    prepare`` and ``patarm.build_messages`` rows follow. Columns may also sit in ``extra_info``.
    """
    rows = len(dataset)
    pair_ids = _dataset_column(dataset, pair_id_column)
    sides = _dataset_column(dataset, side_column)
    sources = _dataset_column(dataset, source_column) if source_column else None
    if pair_ids is None or sides is None:
        extra_info = _dataset_column(dataset, "extra_info")
        if extra_info is not None:
            pair_ids, sides, found_sources = read_pair_columns(
                {"extra_info": extra_info}, rows, pair_id_column, side_column, source_column
            )
            sources = sources if sources is not None else found_sources
    if pair_ids is None or sides is None:
        columns = getattr(dataset, "column_names", None)
        raise ValueError(
            f"PairGRPOTrainer: {what} needs `{pair_id_column}` and `{side_column}` columns (or an `extra_info` "
            f"dict holding them) to keep pairs together; its columns are {columns}. Build the rows with "
            "patarm.build_messages or `patarm prepare`"
        )
    if rows < 2:
        raise ValueError(f"PairGRPOTrainer: {what} has {rows} row(s); it needs at least one pair (2 rows)")
    for k in range(rows // 2):
        a, b = 2 * k, 2 * k + 1
        key_a = (None if sources is None else sources[a], pair_ids[a])
        key_b = (None if sources is None else sources[b], pair_ids[b])
        side_pair = {sides[a], sides[b]}
        if key_a != key_b or side_pair != set(POINTWISE_SIDES):
            hint = ""
            if set(sides[a : b + 1]) <= set(PAIRWISE_SIDES):
                hint = (
                    " These look like pairwise rows (side A/B): each row holds a whole pair, so train them "
                    "with the plain GRPOTrainer and PatarmReward(pairwise=True)."
                )
            raise ValueError(
                f"PairGRPOTrainer: rows {a} and {b} of {what} are not the two sides of one pair "
                f"(pair {key_a} side {sides[a]!r}, pair {key_b} side {sides[b]!r}). Put each pair's chosen "
                f"and rejected rows at adjacent indices (2k, 2k+1), as `patarm prepare` writes them; do not "
                f"shuffle or filter the dataset row by row.{hint}"
            )
    if rows % 2:
        logger.warning(
            "patarm: %s has an odd number of rows (%d); the last row has no partner and is never sampled",
            what,
            rows,
        )
    return rows // 2
