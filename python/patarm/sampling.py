"""Pair-preserving samplers (docs/method.md §8).

Row ``2k`` is the chosen judge prompt of pair ``k`` and row ``2k + 1`` its rejected one. The
samplers here yield whole pairs, chosen row first, and never the partnerless last row of an
odd-sized dataset. Index generation runs in the Rust core with a fixed algorithm (SplitMix64
key, PCG64, Lemire bounded integers, Fisher-Yates), so a seed gives the same order on every
platform and version.

The classes follow torch's Sampler protocol (``__iter__``, ``__len__``, ``set_epoch``) without
importing torch; pass them as ``sampler=`` to a ``torch.utils.data.DataLoader``. Any batch size
the order is cut into must be even: see :func:`check_pair_batch_size`.
"""

from __future__ import annotations

import importlib
import operator
import os
import sys
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np

from . import _core

__all__ = [
    "PairRandomSampler",
    "DistributedPairSampler",
    "pair_permutation",
    "check_pair_batch_size",
]

# Integer settings are read by the core's integer rule (_core.read_int64 / read_seed /
# read_epoch, src/python/inputs/integers.rs): an int or numpy integer, never a bool, within 64 bits;
# seeds in [-2**63, 2**64), taken modulo 2**64 as torch.manual_seed does; epochs >= 0. Its
# errors name the setting.


def _num_rows(data_source: Any) -> int:
    """Row count of a sized data source (its ``len``), or an int row count; the core refuses a
    negative one when the sampler resolves its length."""
    if hasattr(data_source, "__len__"):
        return len(data_source)
    try:
        return _core.read_int64(data_source, "data_source")
    except TypeError:
        raise TypeError(
            f"data_source must be a sized dataset (with __len__) or an int row count, got {type(data_source).__name__}"
        ) from None


def _seed_from_generator(generator: Any) -> int:
    """Draws a base seed from a torch.Generator (as torch's RandomSampler draws its seed) or a
    numpy Generator. Torch is imported only here, only when such a generator is passed."""
    if isinstance(generator, np.random.Generator):
        return int(generator.integers(0, 1 << 63, dtype=np.int64))
    if hasattr(generator, "manual_seed") and hasattr(generator, "initial_seed"):
        import torch  # lazy: only a torch.Generator brings torch in

        return int(torch.empty((), dtype=torch.int64).random_(generator=generator).item())
    raise TypeError(
        f"generator must be a torch.Generator or numpy.random.Generator, got "
        f"{type(generator).__name__}; to fix the order use seed=<int> instead"
    )


def _fresh_seed() -> int:
    """A random base seed. If the program already imported torch, draw it from torch's default
    generator as RandomSampler does, so torch.manual_seed(...) makes the run reproducible;
    otherwise from the OS."""
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "empty"):
        return int(torch.empty((), dtype=torch.int64).random_().item())
    return int.from_bytes(os.urandom(8), "little") >> 1


def _resolve_seed(seed: Any, generator: Any) -> int:
    if seed is not None and generator is not None:
        raise ValueError("pass either seed= or generator=, not both")
    if seed is not None:
        return _core.read_seed(seed)
    if generator is not None:
        return _seed_from_generator(generator)
    return _fresh_seed()


def pair_permutation(num_rows: int, seed: int, epoch: int = 0) -> np.ndarray:
    """Row indices (int64) of a random order of the pairs of ``num_rows`` rows, each pair's
    chosen row directly followed by its rejected row.

    A pure function of ``(num_rows, seed, epoch)``, identical on every platform: use it to
    pre-order a dataset that a framework then reads with shuffling off (verl >= 0.8,
    ``data.shuffle=False``). With an odd ``num_rows`` the last row is left out; fewer than two
    rows give an empty array.
    """
    return _core.pair_permutation(num_rows, seed, epoch)


def check_pair_batch_size(batch_size: int, *, name: str = "batch_size", repeats: int = 1) -> None:
    """The whole-pairs rule: raises ValueError unless ``batch_size`` is a positive multiple of
    ``2 x repeats``.

    A batch cut from a pair-preserving order, in which each row appears ``repeats`` times in a
    row (e.g. TRL's ``num_generations``), holds whole pairs exactly then; with ``repeats=1``
    that is a positive even number. ``name`` is the setting named in the message (e.g.
    ``"data.train_batch_size"``). Every framework's pair check applies this one rule.
    """
    _core.check_pair_batch_size(batch_size, name=name, repeats=repeats)


def _check_resume_point(position: int, num_samples: int, name: str) -> None:
    """Where an epoch resumes: between pairs (even), within the epoch."""
    if not 0 <= position <= num_samples:
        raise ValueError(f"{name}={position} is outside 0..{num_samples}: the state is from another sampler")
    if position % 2:
        raise ValueError(
            f"{name}={position} is odd: pairs are yielded whole (chosen, rejected), so a saved position is "
            f"even; the state is from another sampler or was edited"
        )


def _check_bools(fields: dict, *names: str) -> None:
    for name in names:
        if not isinstance(fields[name], (bool, np.bool_)):
            raise TypeError(f"{name} must be a bool, got {type(fields[name]).__name__}")
        fields[name] = bool(fields[name])


class _PairSamplerBase:
    """Shared epoch bookkeeping: each ``__iter__`` serves the current epoch, then moves on."""

    # Each sampler names the fields its pickle carries and checks them (see __setstate__).
    _STATE_FIELDS: ClassVar[tuple[str, ...]]

    @staticmethod
    def _check_settings(fields: dict) -> None:
        raise NotImplementedError

    @staticmethod
    def _expected_num_samples(fields: dict) -> int:
        raise NotImplementedError

    _num_rows: int
    _num_samples: int
    _seed: int
    _epoch: int
    _resume_at: int
    # The epoch last started by __iter__: (epoch, its length, its list iterator). The iterator
    # is a plain list iterator (C speed); its length hint tells how far it got, for state_dict.
    # None once set_epoch or load_state_dict chose what comes next.
    _live: tuple[int, int, Iterator[int]] | None

    def _start(self, seed: int) -> None:
        """Epoch 0 from its start, nothing under way."""
        self._seed = seed
        self._epoch = 0
        self._resume_at = 0
        self._live = None

    def _epoch_indices(self, epoch: int) -> np.ndarray:
        raise NotImplementedError

    def __iter__(self) -> Iterator[int]:
        epoch, start = self._epoch, self._resume_at
        # The next __iter__ reshuffles, unless set_epoch / load_state_dict says otherwise.
        self._epoch, self._resume_at = epoch + 1, 0
        indices = self._epoch_indices(epoch).tolist()
        iterator = iter(indices[start:] if start else indices)
        self._live = (epoch, len(indices), iterator)
        return iterator

    def _progress(self) -> tuple[int, int] | None:
        """(epoch, rows yielded) of an epoch under way, else None."""
        if self._live is None:
            return None
        epoch, total, iterator = self._live
        yielded = total - operator.length_hint(iterator)
        return (epoch, yielded) if yielded < total else None

    def __getstate__(self) -> dict[str, Any]:
        # A pickle carries the settings and the next epoch, not a live iterator.
        state = self.__dict__.copy()
        state["_live"] = None
        return state

    def __setstate__(self, state: Any) -> None:
        # A pickle is data from outside: check every field, and recompute what follows from
        # the settings, rather than trust it (a wrong _num_samples or _resume_at would give
        # pairs that straddle batches, or an order from another sampler).
        if not isinstance(state, dict):
            raise ValueError(f"cannot unpickle {type(self).__name__}: the state is {type(state).__name__}, not a dict")
        missing = sorted(set(self._STATE_FIELDS) - set(state))
        if missing:
            raise ValueError(f"cannot unpickle {type(self).__name__}: the state lacks {', '.join(missing)}")
        fields = {name: state[name] for name in self._STATE_FIELDS}
        try:
            fields["_num_rows"] = _core.read_int64(fields["_num_rows"], "_num_rows")
            fields["_seed"] = _core.read_seed(fields["_seed"], "_seed")
            if fields["_seed"] != state["_seed"]:
                raise ValueError(f"_seed={state['_seed']} is outside [0, 2**64)")
            fields["_epoch"] = _core.read_epoch(fields["_epoch"], "_epoch")
            fields["_resume_at"] = _core.read_int64(fields["_resume_at"], "_resume_at")
            self._check_settings(fields)
            expected = self._expected_num_samples(fields)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"cannot unpickle {type(self).__name__}: {exc}") from None
        if state["_num_samples"] != expected:
            raise ValueError(
                f"cannot unpickle {type(self).__name__}: _num_samples={state['_num_samples']!r}, but its "
                f"settings give {expected} rows per epoch"
            )
        fields["_num_samples"] = expected
        _check_resume_point(fields["_resume_at"], expected, "_resume_at")
        self.__dict__.update(fields)
        self._live = None

    def set_epoch(self, epoch: int) -> None:
        """Makes the next ``__iter__`` yield epoch ``epoch``'s order: a pure function of
        (seed, epoch). Without calls to set_epoch, successive ``__iter__`` calls give epochs
        0, 1, 2, ..."""
        self._epoch, self._resume_at = _core.read_epoch(epoch), 0
        self._live = None

    @property
    def seed(self) -> int:
        """The base seed (unsigned 64-bit)."""
        return self._seed

    @property
    def num_rows(self) -> int:
        """Rows of the data source (the last one is unused when odd)."""
        return self._num_rows

    @property
    def num_samples(self) -> int:
        """Rows yielded per epoch (even); for DistributedPairSampler, by this rank."""
        return self._num_samples

    def __len__(self) -> int:
        return self._num_samples

    @property
    def epoch(self) -> int:
        """The epoch the next ``__iter__`` yields."""
        return self._epoch

    def state_dict(self) -> dict[str, int]:
        """Checkpoint state: the base seed, the epoch in progress and how many indices of it
        were handed out. Restoring it resumes the order exactly there. (A DataLoader with
        workers takes indices ahead of the training loop; save at an epoch boundary, or count
        the prefetched batches, if that matters.)"""
        progress = self._progress()
        if progress is not None:
            epoch, yielded = progress  # an epoch is under way
        else:
            epoch, yielded = self._epoch, self._resume_at  # what the next __iter__ yields
        return {"seed": self._seed, "epoch": epoch, "yielded": yielded}

    def load_state_dict(self, state: dict[str, int]) -> None:
        """Restores :meth:`state_dict`'s output: the next ``__iter__`` continues that epoch."""
        try:
            seed, epoch, yielded = state["seed"], state["epoch"], state.get("yielded", 0)
        except (KeyError, TypeError):
            raise ValueError("state must be a dict from state_dict() with keys 'seed', 'epoch', 'yielded'") from None
        resume_at = _core.read_int64(yielded, "yielded")
        _check_resume_point(resume_at, len(self), "yielded")
        self._seed, self._epoch, self._resume_at = _core.read_seed(seed), _core.read_epoch(epoch), resume_at
        self._live = None


class PairRandomSampler(_PairSamplerBase):
    """Random order of whole preference pairs, for a DataLoader's ``sampler=``.

    Pairs are rows (0, 1), (2, 3), ...: each yields its chosen index then its rejected index;
    with an odd number of rows the last row is never yielded. Without replacement each epoch is
    a random permutation of the pairs (``num_samples`` beyond one epoch chains fresh
    permutations, as torch's RandomSampler does); with replacement pairs are drawn uniformly.

    Args:
        data_source: a sized dataset (its ``len`` is read once, here) or an int row count.
        replacement: draw pairs with replacement.
        num_samples: rows per epoch; must be even (pairs are yielded whole). Default: every
            pair once, ``2 * (rows // 2)``.
        generator: a ``torch.Generator`` (or ``numpy.random.Generator``) to draw the base seed
            from, as torch's RandomSampler does; torch is imported only if one is passed.
        seed: the base seed. With neither seed nor generator a random one is chosen here (from
            torch's default generator when torch is already imported, so ``torch.manual_seed``
            governs it; else from the OS).

    Each ``__iter__`` yields one epoch and moves to the next, so successive epochs reshuffle;
    ``set_epoch(e)`` makes the next epoch's order a pure function of (seed, e).
    """

    def __init__(
        self,
        data_source: int | Any,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: Any = None,
        *,
        seed: int | None = None,
    ) -> None:
        if not isinstance(replacement, (bool, np.bool_)):
            raise TypeError(f"replacement must be a bool, got {type(replacement).__name__}")
        self._num_rows = _num_rows(data_source)
        requested = None if num_samples is None else _core.read_int64(num_samples, "num_samples")
        self._num_samples = int(_core.resolve_pair_num_samples(self._num_rows, requested))
        self._explicit_num_samples = requested
        self._replacement = bool(replacement)
        self._start(_resolve_seed(seed, generator))

    _STATE_FIELDS = (
        "_num_rows",
        "_num_samples",
        "_explicit_num_samples",
        "_replacement",
        "_seed",
        "_epoch",
        "_resume_at",
    )

    @staticmethod
    def _check_settings(fields: dict) -> None:
        _check_bools(fields, "_replacement")
        if fields["_explicit_num_samples"] is not None:
            fields["_explicit_num_samples"] = _core.read_int64(fields["_explicit_num_samples"], "_explicit_num_samples")

    @staticmethod
    def _expected_num_samples(fields: dict) -> int:
        return int(_core.resolve_pair_num_samples(fields["_num_rows"], fields["_explicit_num_samples"]))

    @property
    def replacement(self) -> bool:
        return self._replacement

    def _epoch_indices(self, epoch: int) -> np.ndarray:
        return _core.random_pair_indices(
            self._num_rows, self._seed, epoch, self._explicit_num_samples, self._replacement
        )

    def __repr__(self) -> str:
        return (
            f"PairRandomSampler(num_rows={self._num_rows}, num_samples={self._num_samples}, "
            f"replacement={self._replacement}, seed={self._seed}, epoch={self._epoch})"
        )


def _distributed_default(value: int | None, what: str) -> int:
    """``num_replicas``/``rank`` from torch.distributed when it is initialised."""
    if value is not None:
        return _core.read_int64(value, what)
    dist: Any = None
    if "torch" in sys.modules:  # never import torch just to find out it is not in use
        try:
            dist = importlib.import_module("torch.distributed")
        except ImportError:  # pragma: no cover - torch without distributed support
            dist = None
    if dist is None or not dist.is_available() or not dist.is_initialized():
        raise ValueError(
            f"{what} was not given and torch.distributed is not initialised: pass "
            f"num_replicas=<world size> and rank=<this process's rank>"
        )
    return int(dist.get_world_size() if what == "num_replicas" else dist.get_rank())


class DistributedPairSampler(_PairSamplerBase):
    """Shards whole preference pairs across ``num_replicas`` ranks (torch's DistributedSampler,
    in pairs).

    Every rank computes the same pair order for (seed, epoch) — ``seed`` must be the same on
    all ranks — pads it by repeating pairs from its start until each rank gets the same number
    of pairs (or, with ``drop_last``, drops the few pairs that do not divide evenly), then rank
    ``r`` takes pairs ``r, r + num_replicas, ...``. Each pair yields its chosen then its
    rejected row. Call ``set_epoch(epoch)`` at the start of each epoch, as with torch's sampler.

    ``num_replicas`` and ``rank`` default to torch.distributed's world size and rank when it is
    initialised; otherwise pass them.
    """

    def __init__(
        self,
        data_source: int | Any,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        self._num_rows = _num_rows(data_source)
        self._num_replicas = _distributed_default(num_replicas, "num_replicas")
        self._rank = _distributed_default(rank, "rank")
        self._shuffle = bool(shuffle)
        self._drop_last = bool(drop_last)
        self._num_samples = int(
            _core.distributed_pair_len(self._num_rows, self._num_replicas, self._rank, self._drop_last)
        )
        self._start(_core.read_seed(seed))

    _STATE_FIELDS = (
        "_num_rows",
        "_num_samples",
        "_num_replicas",
        "_rank",
        "_shuffle",
        "_drop_last",
        "_seed",
        "_epoch",
        "_resume_at",
    )

    @staticmethod
    def _check_settings(fields: dict) -> None:
        _check_bools(fields, "_shuffle", "_drop_last")
        fields["_num_replicas"] = _core.read_int64(fields["_num_replicas"], "_num_replicas")
        fields["_rank"] = _core.read_int64(fields["_rank"], "_rank")

    @staticmethod
    def _expected_num_samples(fields: dict) -> int:
        return int(
            _core.distributed_pair_len(
                fields["_num_rows"], fields["_num_replicas"], fields["_rank"], fields["_drop_last"]
            )
        )

    @property
    def num_replicas(self) -> int:
        return self._num_replicas

    @property
    def rank(self) -> int:
        return self._rank

    @property
    def shuffle(self) -> bool:
        return self._shuffle

    @property
    def drop_last(self) -> bool:
        return self._drop_last

    def _epoch_indices(self, epoch: int) -> np.ndarray:
        return _core.distributed_pair_indices(
            self._num_rows, self._num_replicas, self._rank, self._seed, epoch, self._shuffle, self._drop_last
        )

    def __repr__(self) -> str:
        return (
            f"DistributedPairSampler(num_rows={self._num_rows}, rank={self._rank}/{self._num_replicas}, "
            f"shuffle={self._shuffle}, drop_last={self._drop_last}, seed={self._seed}, epoch={self._epoch})"
        )
