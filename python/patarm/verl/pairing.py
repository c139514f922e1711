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
  other side's judgements that have arrived (PAR 0 if none) and counted as ``partner_timeout``.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..rewards import float32_safe
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


@dataclass
class _Group:
    source: str
    pair_id: Any
    expected: Counter = field(default_factory=Counter)
    texts: dict = field(default_factory=lambda: {"chosen": [], "rejected": []})
    waiters: list = field(default_factory=list)  # (side, index, future)


class PairBoard:
    """Collects the judgements of each pair and scores a pair once all of them arrived.

    ``scorer`` is a ``PairRewardManager`` (its ``score_texts`` / ``extra_info``)."""

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

    async def submit(self, key: Hashable, source: str, pair_id: Any, side: str, text: str) -> dict:
        """Adds one judgement and returns its reward info once the pair is complete: a dict with
        ``reward`` and the manager's extra-info fields, plus ``partner_timeout`` (0.0 / 1.0)."""
        self.stats["rollouts"] += 1
        if side in PAIRWISE_SIDES:  # the pairwise reward needs no partner
            return self._score_rows(source, pair_id, [(side, text)])[0]
        group = self.groups.get(key)
        if group is None:  # not registered (cannot happen through the worker): score alone
            group = self.groups[key] = _Group(source, pair_id)
            group.expected[side] += 1
        if side not in group.texts:
            raise ValueError(f"side {side!r} of pair {pair_id!r}: expected 'chosen', 'rejected', 'A' or 'B'")
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
        scored = self._score_rows(group.source, group.pair_id, rows)
        positions = [(side, i) for side in ("chosen", "rejected") for i in range(len(group.texts[side]))]
        return dict(zip(positions, scored, strict=True))

    def _score_rows(self, source: str, pair_id: Any, rows: list[tuple[str, str]]) -> list[dict]:
        texts = [text for _, text in rows]
        sides = [side for side, _ in rows]
        scores = self.scorer.score_texts(texts, PairRows([source] * len(rows), [pair_id] * len(rows), sides))
        extra = self.scorer.extra_info(scores)
        rewards = float32_safe(scores["reward"])  # what reaches verl's rm_scores (docs/method.md §4)
        return [
            {"reward": float(rewards[i]), **{k: v[i] for k, v in extra.items()}, "partner_timeout": 0.0}
            for i in range(len(rows))
        ]

    def __repr__(self) -> str:
        return f"PairBoard(open_pairs={len(self.groups)}, timeout_s={self.timeout_s}, stats={dict(self.stats)})"
