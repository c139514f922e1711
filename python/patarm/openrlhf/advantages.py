"""Per-side advantages for a pair row (float64), handed to OpenRLHF as the sample's reward.

OpenRLHF's group estimators treat a row's ``n_samples_per_prompt`` samples as one group. A
pair row's group holds n judgements of the chosen response and n of the rejected one, whose
PAR rewards are not comparable (each side is rewarded against the other side's mean), so
patarm normalises within each side before OpenRLHF sees the numbers:

- ``side_norm`` (default): ``(r - mean_side) / (std_side + epsilon)``, std with Bessel's
  correction as OpenRLHF's ``group_norm``; needs at least 2 judgements per side;
- ``side_centre``: ``r - mean_side`` (Dr. GRPO: no division by the std);
- ``none``: the rewards themselves (OpenRLHF's estimator then mixes the two sides).

Rewards are snapped to multiples of 2^-10 first (``patarm.float32_safe``), so a side's mean is
exact and a side of identical rewards gets exactly 0; the advantages are snapped again, so
OpenRLHF's float32 sums over the row are exact. With ``--algo.advantage.estimator dr_grpo``
OpenRLHF then only subtracts the row mean of these values (0 up to a few 2^-10 of rounding).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..rewards import float32_safe

ADVANTAGE_MODES = ("side_norm", "side_centre", "none")


def check_mode(mode: str) -> str:
    if mode not in ADVANTAGE_MODES:
        raise ValueError(f"advantage={mode!r} is unknown; use one of {', '.join(ADVANTAGE_MODES)}")
    return mode


def side_advantages(
    rewards: Sequence[float] | np.ndarray, sides: Sequence[slice], mode: str = "side_norm", epsilon: float = 1e-6
) -> np.ndarray:
    """Advantages (float64, multiples of 2^-10) for one row's rewards, normalised within each
    slice of ``sides`` (chosen and rejected; the whole row for a pairwise row)."""
    check_mode(mode)
    values = float32_safe(rewards)
    if mode == "none":
        return values
    out = values.copy()
    for side in sides:
        group = values[side]
        centred = group - group.mean()
        if mode == "side_norm":
            if len(group) < 2:
                raise ValueError(
                    "advantage='side_norm' needs at least 2 judgements per side: raise "
                    "--rollout.n_samples_per_prompt (and --eval.n_samples_per_prompt) to 2n with n >= 2, "
                    "or use advantage='side_centre'"
                )
            centred = centred / (group.std(ddof=1) + epsilon)
        out[side] = centred
    return float32_safe(out)


__all__ = ["ADVANTAGE_MODES", "check_mode", "side_advantages"]
