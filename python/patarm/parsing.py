"""Parsing judgements (METHOD section 3): one text, or a whole batch in parallel in Rust."""
from __future__ import annotations

from typing import Dict, Optional, Sequence

import numpy as np

from . import _core
from ._core import ERROR_KINDS, Judgement

__all__ = ["ERROR_KINDS", "Judgement", "parse_judgement", "parse_judgements"]

_CHOICES = np.array(["", "A", "B"])


def parse_judgement(text: str, *, pairwise: bool = False, think_in_prompt: bool = False) -> Judgement:
    """Parse one judgement. A malformed judgement is data: ``error`` says what is wrong and
    ``format_reward`` is -1.5 (tags) or -1.0 (verdict); no exception is raised for it.

    >>> parse_judgement("<think>t</think><generate_rubrics>r</generate_rubrics>"
    ...                 "<eval>e</eval><answer>7</answer>").score
    7.0
    """
    return _core.parse_judgement(text, pairwise=pairwise, think_in_prompt=think_in_prompt)


def parse_judgements(
    texts: Sequence[str],
    *,
    pairwise: bool = False,
    think_in_prompt: bool = False,
    num_threads: Optional[int] = None,
) -> Dict[str, np.ndarray]:
    """Parse a batch (GIL released, parallel). Returns numpy arrays aligned with ``texts``:
    ``score`` (float64, NaN when invalid), ``format_reward`` (float64), ``error_code`` (int8,
    an index into ``ERROR_KINDS``) and, when ``pairwise``, ``choice`` ("A", "B" or "")."""
    out = _core.parse_judgements(
        texts, pairwise=pairwise, think_in_prompt=think_in_prompt, num_threads=num_threads
    )
    codes = out.pop("choice_code", None)
    if codes is not None:
        out["choice"] = _CHOICES[codes]
    return out
