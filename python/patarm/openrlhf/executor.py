"""Training a PaTaRM judge in OpenRLHF 0.11: an agent executor that judges both sides of a pair.

Why this shape (read from OpenRLHF 0.11.2): the prompt dataloader shuffles rows one by one and
each row goes to the least-loaded vLLM engine, so a pair stored as two rows is split across
steps and engines. ``patarm prepare --format openrlhf`` therefore writes ONE row per pair,
whose label carries the chosen and the rejected judge prompts. OpenRLHF sends a row to one
engine as one ``generate_responses`` call, which starts ``n_samples_per_prompt`` ``execute``
coroutines together (one ``asyncio.gather``) with the same ``label`` object.

Nothing passes a sample index: the index is the order in which those coroutines start, which
is the order ``gather`` schedules them. Each ``execute`` joins its row on its first step, keyed
by the identity of the row's ``label`` and ``sampling_params`` objects (deserialised once per
call, so two calls never share them), then yields once; by then every sample of the call has
joined, and the row's size is known. With ``n_samples_per_prompt = 2n``, samples 0..n-1 judge
the chosen response and n..2n-1 the rejected one. When all 2n judgements are in, the last one
scores the row with :func:`patarm.score_batch` (PAR, docs/method.md §4) and releases the others.

All partners are tasks of the same call, so nothing ever waits for another call and no timeout
is needed. A generation that fails (or is cancelled) fails its row: the partners still
generating are cancelled, the ones waiting are released with the error, and OpenRLHF's
``generate_responses`` raises the original exception. Other rows are not affected.

A pairwise row (``--pairwise``) holds one A/B judge prompt: all its samples judge it and
earn ``correct_reward`` / ``wrong_reward`` plus the format reward (docs/method.md §5).

What OpenRLHF receives per sample (the dict its ``SingleTurnAgentExecutor`` returns):
``reward`` = the per-side advantage (:mod:`patarm.openrlhf.advantages`), ``scores`` = the
sample's own reward R = R_PAR + R_format (float32-safe; dynamic filtering and logs read it),
and ``extra_logs``: ``judge_score`` (0 when invalid), ``format_error`` (0/1), ``par``,
``pair_reward`` (= scores) and ``side_is_chosen`` (1 chosen, 0 rejected; pairwise: 1 when A is
correct). OpenRLHF averages each key over the samples of a step.

No OpenRLHF import here: the file given to ``--train.agent_func_path``
(``examples/openrlhf/agent_func.py``) combines this class with OpenRLHF's ``AgentExecutorBase``,
which the engine has already imported.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from copy import deepcopy
from dataclasses import dataclass
from typing import Any

from .._shape_option import shape_from_option
from ..sampling import check_pair_batch_size
from .advantages import check_mode, side_advantages

logger = logging.getLogger(__name__)

POINTWISE_LABEL = "pair"
PAIRWISE_LABEL = "pairwise"
_LABEL_FIX = (
    "write the rows with `patarm prepare --format openrlhf` and pass --data.label_key label "
    "(OpenRLHF hands each row's label to the executor unchanged)"
)


@dataclass(frozen=True)
class PairTask:
    """What one row asks for: the pair's identity and its judge prompt(s) as chat messages."""

    pair_id: Any
    source: str
    pairwise: bool
    chosen: list[dict[str, str]] | None = None  # pointwise: the judge prompt of each side
    rejected: list[dict[str, str]] | None = None
    messages: list[dict[str, str]] | None = None  # pairwise: the A/B judge prompt
    answer: str | None = None  # pairwise: the correct verdict, "A" or "B"

    def __repr__(self) -> str:
        kind = "pairwise" if self.pairwise else "pointwise"
        return f"PairTask(pair_id={self.pair_id!r}, source={self.source!r}, {kind})"

    def check_size(self, size: int, mode: str) -> None:
        """A row's sample count must split into two equal sides (pointwise)."""
        if self.pairwise:
            if mode == "side_norm" and size < 2:
                raise ValueError(
                    "advantage='side_norm' needs at least 2 samples per pairwise row: set "
                    "--rollout.n_samples_per_prompt (and --eval.n_samples_per_prompt) >= 2"
                )
            return
        try:  # the whole-pairs rule: the samples split into two equal sides
            check_pair_batch_size(size, name="n_samples_per_prompt")
        except ValueError:
            raise ValueError(
                f"pair {self.pair_id!r} got {size} samples: a pair row needs n judgements of each side, so set "
                f"--rollout.n_samples_per_prompt (and --eval.n_samples_per_prompt) to an even number 2n"
            ) from None
        if mode == "side_norm" and size < 4:
            raise ValueError(
                "advantage='side_norm' needs at least 2 judgements per side: set "
                "--rollout.n_samples_per_prompt (and --eval.n_samples_per_prompt) to 2n with n >= 2, "
                "or use advantage='side_centre'"
            )

    def side_of(self, index: int, size: int) -> str:
        if self.pairwise:
            return str(self.answer)
        return "chosen" if index < size // 2 else "rejected"

    def messages_for(self, side: str) -> list[dict[str, str]]:
        if self.pairwise:
            return list(self.messages or [])
        return list((self.chosen if side == "chosen" else self.rejected) or [])


def parse_pair_label(label: Any) -> PairTask:
    """A row's label (a dict, or the JSON string ``patarm prepare --format openrlhf`` writes)."""
    value = label
    if isinstance(label, str):
        try:
            value = json.loads(label)
        except json.JSONDecodeError:
            value = None
    kind = value.get("patarm") if isinstance(value, dict) else None
    if kind not in (POINTWISE_LABEL, PAIRWISE_LABEL):
        shown = repr(label)[:120]
        raise ValueError(f"the row's label {shown} is not a patarm pair label: {_LABEL_FIX}")
    source = str(value.get("source") or "")
    if kind == PAIRWISE_LABEL:
        if value.get("answer") not in ("A", "B") or not _is_messages(value.get("messages")):
            raise ValueError(
                f"pairwise label of pair {value.get('pair_id')!r} needs 'messages' and 'answer' "
                f"('A' or 'B'): {_LABEL_FIX}"
            )
        return PairTask(value.get("pair_id"), source, True, messages=value["messages"], answer=value["answer"])
    if not (_is_messages(value.get("chosen")) and _is_messages(value.get("rejected"))):
        raise ValueError(
            f"label of pair {value.get('pair_id')!r} needs 'chosen' and 'rejected' judge messages: {_LABEL_FIX}"
        )
    return PairTask(value.get("pair_id"), source, False, chosen=value["chosen"], rejected=value["rejected"])


def _is_messages(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(m, dict) and "content" in m for m in value)


class RowFailed(RuntimeError):
    """Another sample of the same pair row failed; this one is dropped with it."""


class _Row:
    """The samples of one ``generate_responses`` call: joined on their first step, scored together."""

    def __init__(self, label: Any, sampling_params: Any) -> None:
        # Held so that the objects whose ids key the row stay alive (ids are never reused meanwhile).
        self.keys = (label, sampling_params)
        self.size = 0
        self.task: PairTask | None = None
        self.texts: dict[int, str] = {}
        self.members: dict[int, asyncio.Task[Any]] = {}
        self.result: asyncio.Future[list[dict[str, Any]]] = asyncio.get_running_loop().create_future()

    def join(self) -> int:
        index = self.size
        self.size += 1
        task = asyncio.current_task()
        if task is not None:
            self.members[index] = task
        return index

    def fail(self, index: int, exc: BaseException) -> None:
        """Release the partners: waiting ones get the error, generating ones are cancelled."""
        if self.result.done():
            return
        pair = self.task.pair_id if self.task else "?"
        error = RowFailed(
            f"sample {index} of pair {pair!r} failed ({type(exc).__name__}: {exc}); "
            f"the pair's other samples are dropped with it"
        )
        error.__cause__ = exc
        self.result.set_exception(error)
        self.result.exception()  # retrieved here: partners that already returned never look
        current = asyncio.current_task()
        for other, member in self.members.items():
            if other != index and other not in self.texts and member is not current and not member.done():
                member.cancel()


class PairJudgeExecutor:
    """OpenRLHF agent executor (``execute``) for PaTaRM judge training on pair rows.

    Options: ``advantage`` ("side_norm", "side_centre" or "none", see
    :mod:`patarm.openrlhf.advantages`), ``f`` (PAR shape: "graded", "constant", a number, a
    ``patarm.Graded``/``Constant`` or a callable of the gap), ``think_in_prompt``,
    ``correct_reward`` / ``wrong_reward`` (pairwise rows), ``epsilon`` (side_norm).
    """

    def __init__(
        self,
        *,
        advantage: str = "side_norm",
        f: Any = "graded",
        think_in_prompt: bool = False,
        correct_reward: float = 1.0,
        wrong_reward: float = 0.0,
        epsilon: float = 1e-6,
    ) -> None:
        self.advantage = check_mode(advantage)
        self.f = shape_from_option(f)
        self.think_in_prompt = bool(think_in_prompt)
        self.correct_reward = float(correct_reward)
        self.wrong_reward = float(wrong_reward)
        self.epsilon = float(epsilon)
        self._forming: dict[tuple[int, int], _Row] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(advantage={self.advantage!r}, f={self.f!r})"

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_forming"] = {}  # rows in progress belong to a running event loop
        return state

    async def execute(self, prompt, label, sampling_params, max_length: int, hf_tokenizer, llm_engine, images=None):
        key = (id(label), id(sampling_params))
        row = self._forming.get(key)
        if row is None:
            row = self._forming[key] = _Row(label, sampling_params)
        index = row.join()
        await asyncio.sleep(0)  # every sample of this call joins before any goes on
        self._forming.pop(key, None)  # the samples hold the row; the key is free again
        try:
            if row.task is None:
                row.task = parse_pair_label(label)
            row.task.check_size(row.size, self.advantage)
            side = row.task.side_of(index, row.size)
            output, text = await self._generate(
                row.task.messages_for(side), sampling_params, max_length, hf_tokenizer, llm_engine
            )
        except BaseException as exc:
            row.fail(index, exc)
            raise
        if row.result.done():  # a partner failed while this one generated
            await row.result  # raises RowFailed
        row.texts[index] = text
        if len(row.texts) == row.size:
            try:
                row.result.set_result(self._score(row.task, [row.texts[i] for i in range(row.size)]))
            except Exception as exc:
                row.fail(index, exc)
                raise
        rewards = (await row.result)[index]
        output.update(prompt=prompt, label=label, images=images, **rewards)
        return output

    async def _generate(self, messages, sampling_params, max_length, hf_tokenizer, llm_engine):
        """One judgement, generated as OpenRLHF's ``SingleTurnAgentExecutor`` does."""
        text = hf_tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        prompt_ids = list(hf_tokenizer(text=text, add_special_tokens=False)["input_ids"])
        params = deepcopy(sampling_params)
        if params.max_tokens is None:
            params.max_tokens = max(1, max_length - len(prompt_ids))
        room = max_length - params.max_tokens
        if len(prompt_ids) > room:
            logger.warning(
                "judge prompt of %d tokens exceeds max_length - max_tokens = %d: cut from the left as "
                "OpenRLHF does; raise --data.max_len or leave long pairs out "
                "(patarm prepare --tokenizer T --max-prompt-tokens N)",
                len(prompt_ids),
                room,
            )
            prompt_ids = prompt_ids[-room:] if room > 0 else []
        request = await llm_engine.generate(prompt_ids, params, multi_modal_data=None)
        generated = request.outputs[0]
        action_ids = list(generated.token_ids)
        observation = prompt_ids + action_ids
        log_probs = None
        if sampling_params.logprobs is not None and generated.logprobs is not None:
            log_probs = [0.0] * len(prompt_ids)
            # Not strict: an engine that returns fewer logprobs than tokens leaves those unscored.
            for token_id, candidates in zip(action_ids, generated.logprobs, strict=False):
                entry = candidates.get(token_id)
                log_probs.append(entry.logprob if entry is not None else 0.0)
        output = {
            "mm_train_inputs": None,
            "observation_tokens": observation,
            "action_ranges": [(len(prompt_ids), len(observation))],
            "rollout_log_probs": log_probs,
            "truncated": generated.finish_reason == "length",
        }
        return output, hf_tokenizer.decode(action_ids, skip_special_tokens=True)

    def _score(self, task: PairTask, texts: Sequence[str]) -> list[dict[str, Any]]:
        """PAR (or the pairwise reward) of the row's judgements, then per-side advantages."""
        from ..rewards import float32_safe, score_batch

        size = len(texts)
        sides = [task.side_of(i, size) for i in range(size)]
        if task.pairwise:
            scored = score_batch(
                list(texts),
                [0] * size,
                sides,
                pairwise=True,
                think_in_prompt=self.think_in_prompt,
                correct_reward=self.correct_reward,
                wrong_reward=self.wrong_reward,
            )
            groups = [slice(0, size)]
        else:
            scored = score_batch(list(texts), [0] * size, sides, f=self.f, think_in_prompt=self.think_in_prompt)
            groups = [slice(0, size // 2), slice(size // 2, size)]
        rewards = float32_safe(scored["reward"])
        advantages = side_advantages(rewards, groups, self.advantage, self.epsilon)
        par = float32_safe(scored["par"])
        out = []
        for i in range(size):
            score = float(scored["score"][i])
            chosen_side = sides[i] == "chosen" or (task.pairwise and sides[i] == "A")
            out.append(
                {
                    "reward": float(advantages[i]),
                    "scores": float(rewards[i]),
                    "extra_logs": {
                        "judge_score": 0.0 if score != score else score,
                        "format_error": float(scored["error_code"][i] != 0),
                        "par": float(par[i]),
                        "pair_reward": float(rewards[i]),
                        "side_is_chosen": float(chosen_side),
                    },
                }
            )
        return out


__all__ = ["PairJudgeExecutor", "PairTask", "RowFailed", "parse_pair_label"]
