"""PaTaRM in OpenRLHF (0.11.x), without patching OpenRLHF and without importing it.

- Training a judge: :class:`PairJudgeExecutor` (``executor.py``) is an agent executor for
  ``--train.agent_func_path``. Each dataset row is one preference pair (``patarm prepare
  --format openrlhf``); with ``--rollout.n_samples_per_prompt 2n`` the row's first n samples
  judge the chosen response and the last n the rejected one, and the 2n judgements are scored
  together (PAR, docs/method.md §4). ``examples/openrlhf/agent_func.py`` is the file to pass.
- Using a trained judge: :func:`reward_func` (``reward.py``) for ``--reward.remote_url FILE.py``;
  ``examples/openrlhf/reward_func.py`` is the file to pass.
"""

from __future__ import annotations

from .advantages import ADVANTAGE_MODES, side_advantages
from .executor import PairJudgeExecutor, PairTask, parse_pair_label
from .reward import reward_func

__all__ = ["ADVANTAGE_MODES", "PairJudgeExecutor", "PairTask", "parse_pair_label", "reward_func", "side_advantages"]
