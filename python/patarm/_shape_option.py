"""The PAR shape function f from a framework option (reward kwargs, environment, CLI).

``f`` is "graded" (default; ``thresholds``, ``values``), "constant" (``constant``, default
1.3), a number (a constant), a ``patarm.Graded`` / ``patarm.Constant``, any callable of the
gap, or the import path of such a callable (``"pkg://module.function"`` or ``"module:function"``:
a config file or command line can only name it). Shared by the verl and OpenRLHF integrations.
"""

from __future__ import annotations

import importlib
import numbers
from collections.abc import Callable, Sequence
from typing import Any

#: The prefix verl uses for module paths (``pkg://patarm.verl.data``); also accepted for f.
PKG_PREFIX = "pkg://"


def load_callable(path: str) -> Callable:
    """The callable named by ``"pkg://module.function"`` or ``"module:function"``."""
    spec = path[len(PKG_PREFIX) :] if path.startswith(PKG_PREFIX) else path
    module_name, sep, attr = spec.partition(":") if ":" in spec else spec.rpartition(".")
    if not sep or not module_name or not attr:
        raise ValueError(f"f={path!r}: name a function as 'pkg://module.function' or 'module:function'")
    try:
        fn = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"f={path!r}: cannot import {attr!r} from {module_name!r} ({exc})") from exc
    if not callable(fn):
        raise TypeError(f"f={path!r} names a {type(fn).__name__}, not a function of delta")
    return fn


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
        try:
            return Constant(float(name))  # a number given as text (an environment variable)
        except ValueError:
            pass
        if name.startswith(PKG_PREFIX) or ":" in name or "." in name:
            return load_callable(f.strip())
        raise ValueError(
            f"unknown f {f!r}: use 'graded', 'constant', a number, a callable of delta or its import path "
            "('pkg://module.function')"
        )
    if isinstance(f, numbers.Real) and not isinstance(f, bool):
        return Constant(float(f))
    if f is None:
        return Graded()
    if not callable(f):
        raise TypeError(f"f must be 'graded', 'constant', a number or a callable of delta, got {type(f).__name__}")
    return f


__all__ = ["load_callable", "shape_from_option"]
