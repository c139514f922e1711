"""The judge client: an LLM judge behind an OpenAI-compatible server.

- :mod:`patarm.workflow.judge.client`: :class:`Judge` (pointwise scoring, voting, pairs); also
  ``patarm.Judge`` at the top level.
- :mod:`patarm.workflow.judge.results`: what it returns (``ScoreResult``, ``PairResult``,
  ``Results``), parsed and voted in the Rust core.
- :mod:`patarm.workflow.judge.transport`: its HTTP connection pools and the replies' texts.
- :mod:`patarm.workflow.judge.pairwise`: the pairwise (A/B) judge, both orders, voted.
- :mod:`patarm.workflow.judge.log`: the crash-safe judgements log that makes runs resumable.
- :mod:`patarm.workflow.judge.settings`: one judge configuration from keywords and
  ``PATARM_JUDGE_*`` variables, shared by the integrations that use a judge as the reward.

httpx (the ``judge`` extra) is imported on first use, never by importing this package.
"""

from __future__ import annotations

from .client import Judge, JudgeError
from .log import JudgementLog, JudgingStats
from .pairwise import PairwiseResult, PairwiseResults
from .results import PairResult, Results, ScoreResult

__all__ = [
    "Judge",
    "JudgeError",
    "JudgementLog",
    "JudgingStats",
    "PairResult",
    "PairwiseResult",
    "PairwiseResults",
    "Results",
    "ScoreResult",
]
