"""In-process rendezvous of a preference pair's rollouts (no verl import).

verl 0.9 scores each rollout as soon as it is generated. PAR needs both sides of the pair, so
the agent-loop worker that generates a pair's rollouts holds each finished rollout here until
every rollout of the pair has arrived, then scores the pair as one group (Rust) and releases
them all with their true rewards. Each pair's rows reach one worker (verl hands each worker a
contiguous chunk of a pair-ordered batch), so this is a per-process asyncio structure: no
locks, no Ray actor, no polling.

A partner that never arrives cannot hang training:
- a side with no rollout expected on this worker (the pair was split across workers or
  batches) is known at registration: its rollouts are scored at once, with PAR 0 (docs/method.md §4: the
  other side has no valid score), and counted as ``partner_missing``;
- a rollout that fails before it is judged is withdrawn, so the group does not wait for it;
- anything else is bounded by ``timeout_s``: the waiting rollout is then scored against the
  other side's judgements that have arrived (PAR 0 if none) and counted as ``partner_timeout``;
- when a worker's ``generate_sequences`` call returns or fails, every pair it registered is
  ``release``d: nothing registered outlives its dispatch, so memory stays bounded.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._rows import PAIRWISE_SIDES, PairRows

logger = logging.getLogger(__name__)

#: Default seconds a finished rollout waits for the rest of its pair.
DEFAULT_TIMEOUT_S = 1800.0


def plan_worker_chunks(keys: Sequence[Hashable | None], weights: Sequence[int], num_workers: int) -> list[np.ndarray]:
    """Splits a batch's rows among `num_workers` so that rows sharing a key (the rows of one pair,
    keyed by (data source, pair id)) all go to the same worker. A row whose key is None is a unit
    alone. Units are placed heaviest first on the least-loaded worker (by total `weights`, the
    rollouts each row produces), so the work is balanced; each worker's rows keep batch order.
    Returns one array of row indices per worker (possibly empty)."""
    if num_workers < 1:
        raise ValueError(f"num_workers must be >= 1, got {num_workers}")
    units: dict[Hashable, list[int]] = {}
    for row, key in enumerate(keys):
        units.setdefault(("row", row) if key is None else ("pair", key), []).append(row)
    unit_rows = list(units.values())
    unit_weight = [sum(int(weights[row]) for row in rows) for rows in unit_rows]
    order = sorted(range(len(unit_rows)), key=lambda u: (-unit_weight[u], unit_rows[u][0]))
    loads = [(0, worker) for worker in range(num_workers)]  # a heap: (rollouts, worker index)
    assigned: list[list[int]] = [[] for _ in range(num_workers)]
    for unit in order:
        load, worker = heapq.heappop(loads)
        assigned[worker].extend(unit_rows[unit])
        heapq.heappush(loads, (load + unit_weight[unit], worker))
    return [np.sort(np.asarray(rows, dtype=np.int64)) for rows in assigned]


def pair_counters(reward_infos: Iterable[Mapping[str, Any]], prefix: str) -> dict[str, float]:
    """Per-step metrics over the rollouts' reward extra info: ``partner_missing`` (rollouts scored
    without their pair's other side), ``partner_timeout`` and ``pair_accuracy`` (the share of
    pointwise judgements whose PAR ranked the pair right; absent when none has ``pair_correct``,
    e.g. under a user's compute_score). Names are ``<prefix>patarm/<counter>``."""
    missing = timeout = correct = judged = 0.0
    for info in reward_infos:
        found = info.get("partner_found")
        missing += float(found is not None and float(found) == 0.0)
        timeout += float(info.get("partner_timeout") or 0.0)
        if info.get("pair_correct") is not None:
            correct += float(info["pair_correct"])
            judged += 1.0
    metrics = {f"{prefix}patarm/partner_missing": missing, f"{prefix}patarm/partner_timeout": timeout}
    if judged:
        metrics[f"{prefix}patarm/pair_accuracy"] = correct / judged
    return metrics


@dataclass
class _Group:
    source: str
    pair_id: Any
    expected: Counter = field(default_factory=Counter)
    texts: dict = field(default_factory=lambda: {"chosen": [], "rejected": []})
    waiters: list = field(default_factory=list)  # (side, index, future)
    extra_info: Mapping[str, Any] | None = None  # a row's extra_info, for a user's pair-form compute_score


class PairBoard:
    """Collects the judgements of each pair and scores a pair once all of them arrived.

    ``scorer`` is a ``PairRewardManager`` (its ``score_rows``)."""

    def __init__(self, scorer: Any, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        if not timeout_s > 0:
            raise ValueError(f"pair_timeout_s must be > 0 seconds, got {timeout_s}")
        self.scorer = scorer
        self.timeout_s = float(timeout_s)
        self.groups: dict[Hashable, _Group] = {}
        self.stats: Counter = Counter()

    def expect(self, key: Hashable, source: str, pair_id: Any, side: str, count: int = 1) -> None:
        """Registers `count` rollouts of `side` for the pair `key` (before they start)."""
        if side in PAIRWISE_SIDES:
            return
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = _Group(source, pair_id)
        group.expected[side] += int(count)

    def withdraw(self, key: Hashable, side: str) -> None:
        """A rollout of `side` ended without a judgement: stop waiting for it."""
        group = self.groups.get(key)
        if group is None or group.expected[side] <= 0:
            return
        group.expected[side] -= 1
        self.stats["withdrawn"] += 1
        self._finish_if_complete(key, group)

    async def submit(
        self,
        key: Hashable,
        source: str,
        pair_id: Any,
        side: str,
        text: str,
        extra_info: Mapping[str, Any] | None = None,
    ) -> dict:
        """Adds one judgement and returns its reward info once the pair is complete: a dict with
        ``reward`` and the manager's extra-info fields, plus ``partner_timeout`` (0.0 / 1.0)."""
        self.stats["rollouts"] += 1
        if side in PAIRWISE_SIDES:  # the pairwise reward needs no partner
            return self._score_rows(source, pair_id, [(side, text)], extra_info)[0]
        if side not in ("chosen", "rejected"):
            raise ValueError(f"side {side!r} of pair {pair_id!r}: expected 'chosen', 'rejected', 'A' or 'B'")
        group = self.groups.get(key)
        if group is None:
            # Registration and submission read the pair key from different columns of the same
            # row; a mismatch would score every rollout alone (PAR 0). Count it and say so.
            self.stats["unregistered"] += 1
            if self.stats["unregistered"] == 1:
                logger.warning(
                    "patarm: a rollout of pair %r of %r was not registered before it finished; it is scored "
                    "without its partner (PAR 0). This is a bug in patarm: please report it.",
                    pair_id,
                    source,
                )
            group = self.groups[key] = _Group(source, pair_id)
            group.expected[side] += 1
        if group.extra_info is None:
            group.extra_info = extra_info
        index = len(group.texts[side])
        group.texts[side].append(text)
        future = asyncio.get_running_loop().create_future()
        group.waiters.append((side, index, future))
        self._finish_if_complete(key, group)
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.timeout_s)
        except asyncio.TimeoutError:
            self.stats["partner_timeout"] += 1
            logger.warning(
                "patarm: pair %r of %r incomplete after %.0f s (%s arrived of %s expected); scoring this "
                "rollout against what arrived",
                pair_id,
                source,
                self.timeout_s,
                {s: len(t) for s, t in group.texts.items()},
                dict(group.expected),
            )
            group.waiters = [w for w in group.waiters if w[2] is not future]
            result = self._score_group(group)[(side, index)]
            return {**result, "partner_timeout": 1.0}

    def release(self, keys: Iterable[Hashable]) -> None:
        """Ends the pairs `keys` (those one dispatch registered) once the dispatch is over: a pair
        still open then can never complete (its other rollouts failed, were cancelled or never
        ran), so whatever waits is scored against what arrived and the group is dropped."""
        for key in keys:
            group = self.groups.pop(key, None)
            if group is None:
                continue
            self.stats["released_open"] += 1
            waiting = [w for w in group.waiters if not w[2].done()]
            if waiting:
                results = self._score_group(group)
                for side, index, future in waiting:
                    future.set_result({**results[(side, index)], "partner_timeout": 0.0})

    def _finish_if_complete(self, key: Hashable, group: _Group) -> None:
        if any(len(group.texts[s]) < group.expected[s] for s in ("chosen", "rejected")):
            return
        del self.groups[key]
        results = self._score_group(group)
        missing = [s for s in ("chosen", "rejected") if not group.texts[s]]
        if missing and any(group.texts.values()):
            self.stats["partner_missing"] += sum(len(t) for t in group.texts.values())
        for side, index, future in group.waiters:
            if not future.done():
                future.set_result({**results[(side, index)], "partner_timeout": 0.0})

    def _score_group(self, group: _Group) -> dict[tuple[str, int], dict]:
        rows = [(side, text) for side in ("chosen", "rejected") for text in group.texts[side]]
        if not rows:
            return {}
        scored = self._score_rows(group.source, group.pair_id, rows, group.extra_info)
        positions = [(side, i) for side in ("chosen", "rejected") for i in range(len(group.texts[side]))]
        return dict(zip(positions, scored, strict=True))

    def _score_rows(
        self, source: str, pair_id: Any, rows: list[tuple[str, str]], extra_info: Mapping[str, Any] | None
    ) -> list[dict]:
        texts = [text for _, text in rows]
        sides = [side for side, _ in rows]
        pair = PairRows([source] * len(rows), [pair_id] * len(rows), sides)
        # float32-safe rewards (what reaches verl's rm_scores, docs/method.md §4) and extra info
        rewards, extra = self.scorer.score_rows(texts, pair, [extra_info] * len(rows))
        return [
            {"reward": float(rewards[i]), **{k: v[i] for k, v in extra.items()}, "partner_timeout": 0.0}
            for i in range(len(rows))
        ]

    def __repr__(self) -> str:
        return f"PairBoard(open_pairs={len(self.groups)}, timeout_s={self.timeout_s}, stats={dict(self.stats)})"
