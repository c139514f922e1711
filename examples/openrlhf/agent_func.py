"""OpenRLHF agent executor for training a PaTaRM judge (``--train.agent_func_path``).

OpenRLHF 0.11 loads this file in every rollout engine and builds ``AgentExecutor()``. Each row
is one preference pair (``patarm prepare --format openrlhf``); with
``--rollout.n_samples_per_prompt 2n`` the row's first n samples judge the chosen response, the
last n the rejected one, and the 2n judgements are scored together (PAR). See
``patarm.openrlhf.executor`` and the README's OpenRLHF section.

Settings (environment of the rollout engines, defaults in brackets):
  PATARM_ADVANTAGE        side_norm | side_centre | none  [side_norm]; pair with
                          --algo.advantage.estimator dr_grpo (which then only centres)
  PATARM_F                graded | constant | a number    [graded]
  PATARM_THINK_IN_PROMPT  1 when the chat template opens <think> in the prompt  [0]
"""

import os

from openrlhf.utils.agent import AgentExecutorBase  # already imported by OpenRLHF's rollout engine

from patarm.openrlhf import PairJudgeExecutor


def _f(value: str):
    try:
        return float(value)
    except ValueError:
        return value


class AgentExecutor(PairJudgeExecutor, AgentExecutorBase):
    def __init__(self) -> None:
        super().__init__(
            advantage=os.environ.get("PATARM_ADVANTAGE", "side_norm"),
            f=_f(os.environ.get("PATARM_F", "graded")),
            think_in_prompt=os.environ.get("PATARM_THINK_IN_PROMPT", "0") == "1",
        )
