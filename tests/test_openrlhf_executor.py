"""Unit tests of patarm.openrlhf.PairJudgeExecutor without OpenRLHF (core venv): a character
tokenizer and a scripted engine stand in for OpenRLHF's; `generate_responses` below is the
body of OpenRLHF 0.11.2's RolloutRayActor.generate_responses. The integration tests in
tests/openrlhf_integration drive the same executor through OpenRLHF's real engines."""

import asyncio
import json
import pickle
import random
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import par_reference
from chat_server import judgement
from patarm.openrlhf import PairJudgeExecutor, parse_pair_label, side_advantages

QUANTUM = 2.0**-10


class CharTokenizer:
    """One token per character; a chat template that marks the judge prompt."""

    eos = 0

    def apply_chat_template(self, messages, tokenize=False, add_generation_prompt=True):
        return "".join(f"<user>{m['content']}" for m in messages) + "<assistant>"

    def __call__(self, text, add_special_tokens=False):
        return {"input_ids": [ord(c) for c in text]}

    def decode(self, ids, skip_special_tokens=False):
        return "".join(chr(i) for i in ids if not (skip_special_tokens and i == self.eos))


class ScriptedEngine:
    """Answers a judge prompt containing a key with the next scripted judgement, after a random delay."""

    def __init__(self, script, fail=None, seed=0):
        self.script = {key: list(texts) for key, texts in script.items()}
        self.fail = fail
        self.random = random.Random(seed)
        self.started = self.finished = self.cancelled = 0

    async def generate(self, prompt_ids, params, multi_modal_data=None):
        self.started += 1
        text = "".join(chr(i) for i in prompt_ids)
        key = next(k for k in self.script if k in text)
        try:
            await asyncio.sleep(self.random.uniform(0, 0.02))
            if key == self.fail:
                self.fail = None
                raise RuntimeError(f"engine failed on {key}")
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        self.finished += 1
        ids = [ord(c) for c in self.script[key].pop(0)] + [CharTokenizer.eos]
        return SimpleNamespace(outputs=[SimpleNamespace(token_ids=ids, finish_reason="stop", logprobs=None)])


def pair_label(pair_id, pairwise=False, answer="A"):
    if pairwise:
        return json.dumps(
            {
                "patarm": "pairwise",
                "pair_id": pair_id,
                "source": "s",
                "messages": [{"role": "user", "content": f"AB-{pair_id}"}],
                "answer": answer,
            }
        )
    return json.dumps(
        {
            "patarm": "pair",
            "pair_id": pair_id,
            "source": "s",
            "chosen": [{"role": "user", "content": f"C-{pair_id}"}],
            "rejected": [{"role": "user", "content": f"R-{pair_id}"}],
        }
    )


async def generate_responses(executor, engine, label, num_samples, prompt="row"):
    """OpenRLHF 0.11.2: RolloutRayActor.generate_responses."""
    params = SimpleNamespace(max_tokens=None, logprobs=None)
    tasks = [
        executor.execute(
            prompt=prompt,
            label=label,
            sampling_params=params,
            max_length=10**6,
            hf_tokenizer=CharTokenizer(),
            llm_engine=engine,
        )
        for _ in range(num_samples)
    ]
    return await asyncio.gather(*tasks)


def snapped(values):
    return [round(v / QUANTUM) * QUANTUM for v in values]


CHOSEN = [judgement(9), judgement(7), "no tags", judgement(8)]
REJECTED = [judgement(4), judgement(8.5), judgement(6), "<answer>x</answer>"]


def test_a_rows_first_half_judges_chosen_and_the_reward_is_par_over_all_2n():
    engine = ScriptedEngine({"C-p1": CHOSEN, "R-p1": REJECTED})
    outputs = asyncio.run(generate_responses(PairJudgeExecutor(advantage="none"), engine, pair_label("p1"), 8))
    texts = ["".join(chr(i) for i in o["observation_tokens"][o["action_ranges"][0][0] : -1]) for o in outputs]
    prompts = ["".join(chr(i) for i in o["observation_tokens"][: o["action_ranges"][0][0]]) for o in outputs]
    assert all("C-p1" in p for p in prompts[:4]) and all("R-p1" in p for p in prompts[4:])
    assert sorted(texts[:4]) == sorted(CHOSEN) and sorted(texts[4:]) == sorted(REJECTED)
    reference = par_reference.score_batch(texts, ["p1"] * 8, ["chosen"] * 4 + ["rejected"] * 4)
    assert [o["scores"] for o in outputs] == snapped(reference["reward"])
    assert [o["reward"] for o in outputs] == snapped(reference["reward"])  # advantage="none"
    assert [o["extra_logs"]["side_is_chosen"] for o in outputs] == [1.0] * 4 + [0.0] * 4
    assert [o["extra_logs"]["format_error"] for o in outputs] == [float(e != 0) for e in reference["error_code"]]
    assert all(o["prompt"] == "row" and o["label"] == pair_label("p1") for o in outputs)


def test_concurrent_rows_on_one_engine_never_mix():
    script = {}
    for k in range(6):
        script[f"C-q{k}"] = [judgement(9 - k % 3)] * 4
        script[f"R-q{k}"] = [judgement(k % 4)] * 4
    engine = ScriptedEngine(script, seed=3)
    executor = PairJudgeExecutor(advantage="side_centre")

    async def many_rows():  # like several generate_responses calls in flight on one actor
        return await asyncio.gather(*[generate_responses(executor, engine, pair_label(f"q{k}"), 8) for k in range(6)])

    for k, outputs in enumerate(asyncio.run(many_rows())):
        scores = [o["extra_logs"]["judge_score"] for o in outputs]
        assert scores == [9 - k % 3] * 4 + [k % 4] * 4
        assert [o["reward"] for o in outputs] == [0.0] * 8  # identical sides: advantage exactly 0
    assert executor._forming == {}


def test_side_norm_advantages_are_per_side():
    engine = ScriptedEngine({"C-p": CHOSEN, "R-p": REJECTED}, seed=1)
    outputs = asyncio.run(generate_responses(PairJudgeExecutor(), engine, pair_label("p"), 8))
    rewards = [o["scores"] for o in outputs]
    expected = []
    for side in (rewards[:4], rewards[4:]):
        mean, std = np.mean(side), np.std(side, ddof=1)
        expected.extend((r - mean) / (std + 1e-6) for r in side)
    assert [o["reward"] for o in outputs] == pytest.approx(snapped(expected), abs=QUANTUM)


def test_a_failed_generation_fails_its_row_and_releases_every_partner():
    engine = ScriptedEngine({"C-p": CHOSEN, "R-p": REJECTED}, fail="R-p")
    executor = PairJudgeExecutor()

    async def run():
        with pytest.raises(RuntimeError, match="engine failed on R-p"):
            await asyncio.wait_for(generate_responses(executor, engine, pair_label("p"), 8), 10)
        await asyncio.sleep(0.1)  # partners still generating were cancelled, the others released
        return [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]

    assert asyncio.run(run()) == []
    assert engine.started == engine.finished + engine.cancelled + 1


def test_the_sample_count_must_split_into_two_sides():
    engine = ScriptedEngine({"C-p": CHOSEN, "R-p": REJECTED})
    with pytest.raises(ValueError, match="n_samples_per_prompt.*even number 2n"):
        asyncio.run(generate_responses(PairJudgeExecutor(), engine, pair_label("p"), 5))
    with pytest.raises(ValueError, match="at least 2 judgements per side"):
        asyncio.run(generate_responses(PairJudgeExecutor(), engine, pair_label("p"), 2))
    outputs = asyncio.run(generate_responses(PairJudgeExecutor(advantage="side_centre"), engine, pair_label("p"), 2))
    assert [o["reward"] for o in outputs] == [0.0, 0.0]


def test_pairwise_rows_earn_the_verdict_reward():
    texts = [judgement("A"), judgement("B"), "nope", judgement("A")]
    engine = ScriptedEngine({"AB-w": texts})
    outputs = asyncio.run(
        generate_responses(PairJudgeExecutor(advantage="none"), engine, pair_label("w", pairwise=True, answer="B"), 4)
    )
    got = ["".join(chr(i) for i in o["observation_tokens"][o["action_ranges"][0][0] : -1]) for o in outputs]
    expected = []
    for text in got:
        verdict, error = par_reference.parse(text, pairwise=True)
        expected.append((1.0 if verdict == "B" else 0.0) + par_reference.FORMAT_REWARD[error])
    assert [o["scores"] for o in outputs] == expected


def test_labels_that_are_not_patarm_pairs_are_refused_with_the_fix():
    with pytest.raises(ValueError, match="patarm prepare --format openrlhf.*--data.label_key label"):
        parse_pair_label("")
    with pytest.raises(ValueError, match="needs 'chosen' and 'rejected'"):
        parse_pair_label({"patarm": "pair", "pair_id": 1, "chosen": []})
    task = parse_pair_label(json.loads(pair_label(7)))  # a dict label works as well as its JSON
    assert repr(task) == "PairTask(pair_id=7, source='s', pointwise)"
    assert pickle.loads(pickle.dumps(task)) == task


def test_executor_options_are_checked_and_it_pickles():
    with pytest.raises(ValueError, match="advantage='mean' is unknown"):
        PairJudgeExecutor(advantage="mean")
    with pytest.raises(ValueError, match="unknown f"):
        PairJudgeExecutor(f="steep")
    executor = PairJudgeExecutor(advantage="side_centre", f=1.3)
    clone = pickle.loads(pickle.dumps(executor))
    assert repr(clone) == repr(executor) == "PairJudgeExecutor(advantage='side_centre', f=Constant(1.3))"


rewards = st.sampled_from([0.0, 1.2, 1.4, 1.3, -1.0, -1.5, 0.2, 2.6])


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 8).flatmap(lambda n: st.tuples(st.just(n), st.lists(rewards, min_size=2 * n, max_size=2 * n))))
def test_side_advantages_are_float32_exact_and_zero_for_identical_sides(case):
    n, values = case
    sides = [slice(0, n), slice(n, 2 * n)]
    for mode in ("side_norm", "side_centre"):
        out = side_advantages(values, sides, mode)
        assert np.all(out / QUANTUM == np.round(out / QUANTUM))  # multiples of 2^-10
        assert np.array_equal(out.astype(np.float32).astype(np.float64), out)
        for side in sides:
            if len(set(values[side])) == 1:
                assert np.all(out[side] == 0.0)
            assert abs(out[side].sum()) <= n * QUANTUM / 2  # centred up to the final rounding
