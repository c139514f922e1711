"""The PAR shape function f from a framework option (reward kwargs, environment, CLI).

``f`` is "graded" (default; ``thresholds``, ``values``), "constant" (``constant``, default
1.3), a number (a constant), a ``patarm.Graded`` / ``patarm.Constant``, or any callable of the
gap. Shared by the verl and OpenRLHF integrations.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any


def shape_from_option(
    f: Any = "graded",
    *,
    thresholds: Sequence[float] | None = None,
    values: Sequence[float] | None = None,
    constant: float | None = None,
):
    from ._core import Constant, Graded

    if isinstance(f, str):
        name = f.strip().lower()
        if name == "graded":
            graded_args = {k: tuple(v) for k, v in (("thresholds", thresholds), ("values", values)) if v is not None}
            return Graded(**graded_args)
        if name == "constant":
            return Constant(float(1.3 if constant is None else constant))
        raise ValueError(f"unknown f {f!r}: use 'graded', 'constant', a number or a callable of delta")
    if isinstance(f, numbers.Real) and not isinstance(f, bool):
        return Constant(float(f))
    if f is None:
        return Graded()
    if not callable(f):
        raise TypeError(f"f must be 'graded', 'constant', a number or a callable of delta, got {type(f).__name__}")
    return f


__all__ = ["shape_from_option"]
