"""Reading PaTaRM's pair identity and options out of verl batches and configs (no verl import).

A row's pair is (data source, ``extra_info["pair_id"]``); its side is ``extra_info["side"]`` or
else ``reward_model["ground_truth"]``: "chosen"/"rejected" for pointwise judging, the correct
verdict "A"/"B" for pairwise judging. Positions never matter: verl repeats and reorders rows.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

POINTWISE_SIDES = ("chosen", "rejected")
PAIRWISE_SIDES = ("A", "B")
# Names of the options a user may set (verl <= 0.7: reward_model.reward_kwargs; verl 0.9:
# reward.reward_kwargs). Anything else there is ignored, as verl's own managers do.
OPTION_KEYS = ("f", "thresholds", "values", "constant", "pairwise", "think_in_prompt", "num_threads", "verify_rows")
# Read elsewhere: pair_timeout_s (agent-loop rendezvous), allow_pointwise_fallback (reward loop).


@dataclass
class PairRows:
    """The pair identity of each row of a batch."""

    sources: list[str]
    pair_ids: list[Any]
    sides: list[str]


def _row_dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _plain(value: Any) -> Any:
    """numpy scalars (parquet ints) become Python ints/strs so ids hash and compare plainly."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def pair_rows(non_tensor_batch: Mapping[str, Any], size: int, reward_fn_key: str = "data_source") -> PairRows:
    """Reads (source, pair id, side) for each of `size` rows; raises ValueError naming the first
    row that lacks them and how to fix the data."""
    fix = (
        "build the rows with patarm's data step, which writes extra_info={'pair_id', 'side', ...} "
        "and reward_model={'style': 'rule', 'ground_truth': 'chosen'|'rejected'}"
    )
    if reward_fn_key not in non_tensor_batch:
        raise ValueError(f"the batch has no {reward_fn_key!r} column (data.reward_fn_key); {fix}")
    sources_col = non_tensor_batch[reward_fn_key]
    extra_col = non_tensor_batch.get("extra_info")
    reward_col = non_tensor_batch.get("reward_model")
    extras = [e if isinstance(e, Mapping) else {} for e in extra_col[:size]] if extra_col is not None else [{}] * size
    # Fast path (plain ids and sides in extra_info); rows that need more care are redone below.
    pair_ids = [e.get("pair_id") for e in extras]
    sides: list[Any] = [e.get("side") for e in extras]  # each checked to be a str below
    sources = [s if type(s) is str else str(_plain(s)) for s in sources_col[:size]]
    for row in range(size):
        pair_id, side = pair_ids[row], sides[row]
        if type(pair_id) not in (str, int):
            pair_id = _plain(pair_id)
            if pair_id is None or not isinstance(pair_id, (str, numbers.Integral)) or isinstance(pair_id, bool):
                raise ValueError(f"row {row} has no usable extra_info['pair_id'] (got {pair_id!r}); {fix}")
            pair_ids[row] = int(pair_id) if isinstance(pair_id, numbers.Integral) else pair_id
        if type(side) is not str:
            side = _plain(side)
            if side is None:
                side = _plain(_row_dict(reward_col[row] if reward_col is not None else None).get("ground_truth"))
            if not isinstance(side, str):
                raise ValueError(
                    f"row {row} has no side: set extra_info['side'] or reward_model['ground_truth'] to "
                    f"'chosen'/'rejected' (pointwise) or 'A'/'B' (pairwise), got {side!r}; {fix}"
                )
            sides[row] = side
    return PairRows(sources, pair_ids, sides)


def infer_pairwise(sides: Sequence[str], requested: bool | None) -> bool:
    """Pairwise when asked, or (auto) when every side is a verdict A/B."""
    if requested is not None:
        return bool(requested)
    return len(sides) > 0 and all(side in PAIRWISE_SIDES for side in sides)


def read_flag(kwargs: Mapping[str, Any], name: str, default: bool | None) -> bool | None:
    """A yes/no option: a bool (numpy's too) or None for the default. Strings are refused, as the
    core refuses them: ``bool("false")`` is True, so reading them loosely would invert a setting."""
    value = _plain(kwargs.get(name, default))
    if value is None or isinstance(value, bool):
        return value
    raise TypeError(
        f"reward_kwargs option {name!r} must be true or false (unquoted on verl's command line: "
        f"+reward.reward_kwargs.{name}=False), got {value!r} ({type(value).__name__})"
    )


@dataclass
class Options:
    """PaTaRM settings of a manager (docs/method.md §4: f; section 3: think_in_prompt)."""

    f: Any = None
    pairwise: bool | None = None
    think_in_prompt: bool = False
    num_threads: int | None = None
    verify_rows: int = 1
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, kwargs: Mapping[str, Any] | None) -> Options:
        """Options from reward kwargs: ``f`` is "graded" (default; ``thresholds``, ``values``),
        "constant" (``constant``), a number (constant value), an f object, a callable of delta or
        its import path (``"pkg://module.function"``)."""
        from .._shape_option import shape_from_option

        kwargs = dict(kwargs or {})
        f = shape_from_option(
            kwargs.get("f", "graded"),
            thresholds=kwargs.get("thresholds"),
            values=kwargs.get("values"),
            constant=kwargs.get("constant"),
        )
        num_threads = kwargs.get("num_threads")
        return cls(
            f=f,
            pairwise=read_flag(kwargs, "pairwise", None),
            think_in_prompt=bool(read_flag(kwargs, "think_in_prompt", False)),
            num_threads=None if num_threads is None else int(num_threads),
            verify_rows=int(kwargs.get("verify_rows", 1)),
            extra={k: v for k, v in kwargs.items() if k not in OPTION_KEYS},
        )


def unwrap_compute_score(compute_score: Callable | None) -> tuple[Callable | None, dict]:
    """The user's own function behind verl's wrappers, and the reward kwargs verl bound to it.

    Returns (None, kwargs) when the function is patarm's own or verl's default rule-based
    dispatcher (which knows nothing of PaTaRM): the manager then scores with the native core.
    """
    import functools

    bound: dict = {}
    fn = compute_score
    while isinstance(fn, functools.partial):
        # verl wraps custom functions as partial(_call_with_kwargs, raw_fn, reward_kwargs)
        if getattr(fn.func, "__name__", "") in ("_call_with_kwargs", "_call_with_kwargs_async") and fn.args:
            if len(fn.args) > 1 and isinstance(fn.args[1], Mapping):
                bound.update(fn.args[1])
            fn = fn.args[0]
        else:
            bound.update(fn.keywords or {})
            fn = fn.func
    if fn is None:
        return None, bound
    module = getattr(fn, "__module__", "") or ""
    if module.startswith("verl.utils.reward_score") or module.startswith("patarm"):
        return None, bound
    return compute_score, {}
