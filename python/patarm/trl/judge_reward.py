"""A trained PaTaRM judge as the reward of policy training in TRL (the paper's IFEval /
InFoBench use): ``GRPOTrainer(reward_funcs=[JudgeReward(...)])``.

``JudgeReward`` is an async callable; TRL runs async reward functions on its own event loop
(``trl.trainer.utils.is_async_callable``), so the judge's requests for a whole generation batch
go out concurrently and the HTTP connections stay open between steps. Per completion it builds
the pointwise judge prompt for (policy prompt, completion) with the ``instruction_following``
rubrics (or the row's ``domain`` column), samples ``n`` judgements through :class:`patarm.Judge`
and votes:

- ``vote="mean"`` (the paper's form, default): the mean of the valid scores (0-10), times ``scale``;
- ``vote="group_par"``: group-relative PAR (docs/method.md §9) within each GRPO group (the
  completions of one prompt): a completion earns ``f(m - o)`` when its mean score m exceeds
  the mean o of the valid scores of the group's other completions, else 0 (exact, as PAR; f
  defaults to ``Graded()``), times ``scale``; n x k judge calls for a group of n;
- ``vote="majority"``: docs/method.md §6's majority voting, within each GRPO group: round i
  votes for the completion scored highest in its i-th judgement (a shared highest score votes
  for nobody: ties are not a win); the reward is the completion's share of the n rounds, times
  ``scale``.

Every reward is float32-safe (a multiple of 2^-10, ``patarm.float32_safe``), so a group of
equal rewards gets an advantage of exactly 0 in TRL's float32 group normalisation.

Judge failures are masked by default: a completion with no valid judgement (for majority
voting: none in any round) gets ``invalid_reward``, default ``None``, which TRL 1.16 leaves out
of the group's mean and std and gives an advantage of 0 (a number, e.g. 0.0, trains on it
instead). A judge call that fails after its retries is also a masked completion
(``on_judge_error="mask"``, default) unless every completion of the batch failed (the server is
down: :class:`patarm.JudgeError`); ``on_judge_error="raise"`` raises at the first failure.

Length control: ``length_penalty=c`` subtracts ``c x max(0, (L - L_g) / L_g)`` from the reward
of a completion of L characters, L_g the mean length of its group's judged completions (only
longer-than-average completions pay; default 0, off).

Logged through TRL's ``log_metric`` under ``metric_prefix/``: ``judge_score`` (mean voted score
of the completions with a valid judgement), ``valid_judgement_rate``, ``no_valid_judgement``
(share of completions without a valid judgement), ``judge_failed`` (share whose judge call
failed), ``masked`` (share handed to TRL as None), ``score_length_correlation`` (Pearson, voted
score against completion length in characters, over the judged completions of the step: a
rising value is a sign of reward hacking by length), ``judgements_per_second`` and, per error
kind, ``invalid/<kind>`` (share of judgements); per completion, ``log_extra`` adds the judge
score and the valid judgement count to TRL's completions table.

Imports neither trl nor torch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..rewards import float32_safe, group_par_rewards
from ..workflow.judge.settings import DOWNSTREAM_DOMAIN

VOTES = ("mean", "group_par", "majority")
JUDGE_ERRORS = ("mask", "raise")


class JudgeReward:
    """Reward from a served PaTaRM judge for ``GRPOTrainer`` (see the module doc).

    Pass a :class:`patarm.Judge`, or ``base_url`` and ``model`` (and ``n``, ``temperature``,
    ... as :class:`patarm.Judge` takes them) to build one.
    """

    def __init__(
        self,
        judge: Any = None,
        *,
        base_url: str | None = None,
        model: str | None = None,
        vote: str = "mean",
        domain: str = DOWNSTREAM_DOMAIN,
        domain_column: str | None = "domain",
        rubrics: Any = None,
        scale: float = 1.0,
        invalid_reward: float | None = None,
        on_judge_error: str = "mask",
        f: Any = None,
        length_penalty: float = 0.0,
        name: str = "patarm_judge",
        metric_prefix: str = "patarm_judge",
        log_completion_columns: bool = True,
        **judge_settings: Any,
    ) -> None:
        from ..workflow.judge.client import Judge

        if judge is None:
            if not base_url or not model:
                raise ValueError(
                    "JudgeReward needs a judge: pass judge=patarm.Judge(url, model, n=...) or "
                    "base_url= and model= (the judge server and the model name it serves)"
                )
            judge_settings.setdefault("domain", domain)
            judge = Judge(base_url, model, **judge_settings)
        elif base_url is not None or model is not None or judge_settings:
            raise ValueError("pass either judge= or base_url=/model=/judge settings, not both")
        if not isinstance(judge, Judge):
            raise TypeError(f"judge must be a patarm.Judge, not {type(judge).__name__}")
        if vote not in VOTES:
            raise ValueError(
                f"vote={vote!r}; use 'mean' (mean of the valid scores), 'group_par' (PAR against the "
                "other completions of the prompt) or 'majority' (rounds won within each prompt's group)"
            )
        if on_judge_error not in JUDGE_ERRORS:
            raise ValueError(
                f"on_judge_error={on_judge_error!r}; use 'mask' (a failed judge call masks its completion) "
                "or 'raise' (it stops training with patarm.JudgeError)"
            )
        if f is not None and vote != "group_par":
            raise ValueError(f"f= is the shape of group-relative PAR: pass it with vote='group_par', not vote={vote!r}")
        if not (isinstance(length_penalty, (int, float)) and math.isfinite(length_penalty) and length_penalty >= 0):
            raise ValueError(f"length_penalty must be a finite number >= 0 (0 turns it off), got {length_penalty!r}")
        if invalid_reward is not None and not math.isfinite(float(invalid_reward)):
            raise ValueError(f"invalid_reward must be a finite number or None, got {invalid_reward!r}")
        if not math.isfinite(float(scale)):
            raise ValueError(f"scale must be a finite number, got {scale!r}")
        self.judge = judge
        self.vote = vote
        self.on_judge_error = on_judge_error
        self.f = f
        self.length_penalty = float(length_penalty)
        self.domain = domain
        self.domain_column = domain_column
        self.rubrics = rubrics
        self.scale = float(scale)
        self.invalid_reward = None if invalid_reward is None else float(invalid_reward)
        # TRL names a reward function by its __name__: metrics appear as rewards/<name>/mean.
        self.__name__ = name
        self.metric_prefix = metric_prefix
        self.log_completion_columns = bool(log_completion_columns)

    def __repr__(self) -> str:
        return f"JudgeReward(vote={self.vote!r}, n={self.judge.n}, model={self.judge.model!r}, name={self.__name__!r})"

    async def __call__(
        self,
        prompts: Sequence[Any] | None = None,
        completions: Sequence[Any] | None = None,
        log_metric: Callable[[str, float], None] | None = None,
        log_extra: Callable[[str, list], None] | None = None,
        **columns: Any,
    ) -> list[float | None]:
        from ..workflow.judge.client import JudgeError
        from .reward import completion_texts

        if prompts is None or completions is None:
            raise TypeError(
                "JudgeReward needs `prompts` and `completions`; GRPOTrainer passes them to reward functions"
            )
        if len(prompts) != len(completions):
            raise ValueError(f"got {len(prompts)} prompts for {len(completions)} completions; pass one per completion")
        texts = completion_texts(completions)
        domains = self._domains(columns, len(texts))
        results = await self.judge.ascore_many(
            list(prompts), texts, domains=domains, rubrics=self.rubrics, failures=self.on_judge_error
        )
        if results and all(r.failed for r in results):
            raise JudgeError(
                f"every judge call of this batch failed ({len(results)} completions): is the judge server at "
                f"{self.judge.url} up? (on_judge_error='mask' masks single failures, not a server that is down)"
            )
        rewards, judged = self.rewards(results, prompts, texts)
        self._report(results, judged, rewards, texts, log_metric, log_extra)
        return rewards

    def _domains(self, columns: dict[str, Any], rows: int) -> list[str]:
        values = columns.get(self.domain_column) if self.domain_column else None
        if values is None:
            return [self.domain] * rows
        values = list(values)
        if len(values) != rows:
            raise ValueError(f"the `{self.domain_column}` column has {len(values)} values for {rows} completions")
        return [value if isinstance(value, str) and value else self.domain for value in values]

    def rewards(self, results: Sequence[Any], prompts: Sequence[Any], texts: Sequence[str] | None = None):
        """(float32-safe rewards with None where masked, voted value per completion: NaN where
        no judgement is valid)."""
        groups = [_group_key(p) for p in prompts]
        if self.vote == "mean":
            voted = np.array([r.score for r in results], dtype=np.float64)
        elif self.vote == "group_par":
            voted = group_par_rewards([r.scores for r in results], groups, f=self.f)["par"]
        else:
            voted = _group_round_shares(results, prompts)
        values = voted * self.scale
        if self.length_penalty and texts is not None:
            values = values - self.length_penalty * _excess_length(texts, groups, ~np.isnan(voted))
        snapped = float32_safe(values).tolist()
        masked = None if self.invalid_reward is None else float(float32_safe(self.invalid_reward))
        rewards = [masked if math.isnan(v) else v for v in snapped]
        return rewards, voted

    def _report(self, results, judged: np.ndarray, rewards, texts, log_metric, log_extra) -> None:
        prefix = self.metric_prefix
        if log_metric is not None and len(results):
            stats = getattr(results, "stats", None)
            total = sum(r.n for r in results)
            metrics = {
                f"{prefix}/valid_judgement_rate": sum(r.num_valid for r in results) / total if total else math.nan,
                f"{prefix}/no_valid_judgement": float(np.isnan(judged).mean()),
                f"{prefix}/judge_failed": sum(r.failed for r in results) / len(results),
                f"{prefix}/masked": sum(r is None for r in rewards) / len(results),
            }
            scores = np.array([r.score for r in results], dtype=np.float64)
            if (~np.isnan(scores)).any():
                metrics[f"{prefix}/judge_score"] = float(np.nanmean(scores))
            metrics[f"{prefix}/score_length_correlation"] = score_length_correlation(scores, texts)
            if stats is not None:
                metrics[f"{prefix}/judgements_per_second"] = stats.judgements_per_second
                for kind, count in stats.error_kinds.items():
                    metrics[f"{prefix}/invalid/{kind}"] = count / total
            for key, value in metrics.items():
                if math.isfinite(value):
                    log_metric(key, float(value))
        if log_extra is not None and self.log_completion_columns:
            log_extra(f"{prefix}_score", [r.score for r in results])
            log_extra(f"{prefix}_valid", [r.num_valid for r in results])


def score_length_correlation(scores: Any, texts: Sequence[str]) -> float:
    """Pearson correlation of the voted scores with the completions' lengths (characters),
    over the completions with a score; NaN when fewer than 2 or either is constant."""
    values = np.asarray(scores, dtype=np.float64)
    lengths = np.array([len(t) for t in texts], dtype=np.float64)
    keep = ~np.isnan(values)
    values, lengths = values[keep], lengths[keep]
    if len(values) < 2 or values.std() == 0 or lengths.std() == 0:
        return math.nan
    return float(np.corrcoef(values, lengths)[0, 1])


def _excess_length(texts: Sequence[str], groups: Sequence[Any], judged: np.ndarray) -> np.ndarray:
    """Per completion: max(0, (L - L_g) / L_g), L_g the mean length of its group's judged
    completions (0 where the group has none, or they are empty)."""
    lengths = np.array([len(t) for t in texts], dtype=np.float64)
    excess = np.zeros(len(texts))
    members: dict[Any, list[int]] = {}
    for index, group in enumerate(groups):
        members.setdefault(group, []).append(index)
    for rows in members.values():
        own = [i for i in rows if judged[i]]
        mean = lengths[own].mean() if own else 0.0
        if mean > 0:
            excess[rows] = np.maximum(0.0, (lengths[rows] - mean) / mean)
    return excess


def _group_key(prompt: Any) -> Any:
    if isinstance(prompt, str):
        return prompt
    return repr(prompt)  # a conversation: lists of message dicts


def _group_round_shares(results: Sequence[Any], prompts: Sequence[Any]) -> np.ndarray:
    """Majority voting within each prompt's group: a completion's share of the n rounds in
    which it alone has the highest valid score (NaN when it has no valid judgement)."""
    shares = np.full(len(results), np.nan)
    groups: dict[Any, list[int]] = {}
    for index, prompt in enumerate(prompts):
        groups.setdefault(_group_key(prompt), []).append(index)
    for members in groups.values():
        width = max(len(results[i].scores) for i in members)
        table = np.full((len(members), width), np.nan)
        for row, i in enumerate(members):
            table[row, : len(results[i].scores)] = results[i].scores
        valid = ~np.isnan(table)
        best = np.where(valid, table, -np.inf).max(axis=0)  # per round
        top = valid & (table == best)
        sole = top & (top.sum(axis=0) == 1)  # a shared highest score votes for nobody
        votes = sole.sum(axis=1)
        for row, i in enumerate(members):
            if valid[row].any():
                shares[i] = votes[row] / width
    return shares


__all__ = ["JudgeReward"]
