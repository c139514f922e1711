"""PaTaRM judge training through OpenRLHF 0.11.2's own rollout and advantage code.

`patarm prepare --format openrlhf` rows go through OpenRLHF's dataset and shuffled dataloader,
to two real `RolloutRayActor` engines (local Ray) that load examples/openrlhf/agent_func.py,
driven by the real `SamplesGenerator`; the real `RemoteExperienceMaker` then turns the samples
into advantages (dr_grpo). Only vLLM (scripted judgements after random delays) and the model
forward passes are fakes. Every reward is checked against the plain-Python PAR reference over
the pair's 2n judgements, recomputed from the token ids OpenRLHF holds.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from pathlib import Path

import pytest

from frameworks import require

require("openrlhf")
ray = require("ray")
torch = require("torch")

from harness import FakeActorGroup, load_experience_maker, prompt_dataloader, strategy_for, write_script  # noqa: E402

import par_reference  # noqa: E402
from chat_server import judgement  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
AGENT_FILE = ROOT / "examples" / "openrlhf" / "agent_func.py"
N_PER_SIDE = 4
QUANTUM = 2.0**-10

# Judgements per (pair, side): each side's 4 requests get these 4 texts, in whatever order the
# random delays produce.
PAIRS = {
    "p-same-14": ([judgement(9)] * 4, [judgement(2)] * 4),  # every reward 1.4: advantage 0
    "p-same-12": ([judgement(6)] * 4, [judgement(5)] * 4),  # every reward 1.2: advantage 0
    "p-mixed": (
        [judgement(9), judgement(7), "no tags", judgement(8.5)],
        [
            judgement(4),
            judgement(6),
            judgement(7.5),
            "<think>t</think><generate_rubrics>r</generate_rubrics><eval>e</eval><answer>8/10</answer>",
        ],
    ),
    "p-no-valid-rejected": (
        [judgement(8), judgement(3), judgement(6), judgement(10)],
        ["garbage", "<answer>5</answer>", "no tags", "still none"],
    ),
    "p-spread": (
        [judgement(6), judgement(10), judgement(3), judgement(7)],
        [judgement(5), judgement(5), judgement(9), judgement(0)],
    ),
}
NUM_PAIRS = len(PAIRS)  # one step's batch: every pair


def marker(pair_id: str, side: str) -> str:
    return f"RESPONSE-{pair_id}-{side.upper()}"


@pytest.fixture(scope="module")
def engines(tmp_path_factory, qwen_dir, ray_with_fake_vllm):
    """Two real RolloutRayActor engines (create_vllm_engines) on a local Ray cluster."""
    from openrlhf.trainer.ray.vllm_engine import create_vllm_engines

    state = tmp_path_factory.mktemp("fake-vllm")
    script, events = state / "script.json", state / "events.jsonl"
    write_script(script, [], "empty")
    env = {"PATARM_FAKE_VLLM_SCRIPT": str(script), "PATARM_FAKE_VLLM_EVENTS": str(events)}
    ray_with_fake_vllm(env)
    created = create_vllm_engines(
        num_engines=2,
        tensor_parallel_size=1,
        pretrain=qwen_dir,
        seed=0,
        full_determinism=False,
        enable_prefix_caching=False,
        enforce_eager=True,
        max_model_len=4096,
        agent_func_path=str(AGENT_FILE),
    )
    ray.get([engine.get_num_unfinished_requests.remote() for engine in created])  # actors are up
    return created, script, events


@pytest.fixture(scope="module")
def pair_rows(tmp_path_factory):
    from patarm.workflow.data import prepare

    folder = tmp_path_factory.mktemp("pairs")
    source = folder / "pairs.jsonl"
    with open(source, "w") as handle:
        for pair_id in PAIRS:
            handle.write(
                json.dumps(
                    {
                        "id": pair_id,
                        "prompt": f"Question about {pair_id}?",
                        "domain": "chat",
                        "chosen": marker(pair_id, "chosen"),
                        "rejected": marker(pair_id, "rejected"),
                    }
                )
                + "\n"
            )
    out = {}
    for layout in ("pointwise", "pairwise"):
        path = folder / f"{layout}.jsonl"
        prepare(str(source), str(path), pairwise=layout == "pairwise", seed=1, format="openrlhf", show_progress=False)
        out[layout] = str(path)
    return out


def pointwise_rules():
    return [
        {"match": marker(pair_id, side), "judgements": texts}
        for pair_id, sides in PAIRS.items()
        for side, texts in zip(("chosen", "rejected"), sides, strict=True)
    ]


def run_step(engines_, path, tokenizer, *, n_samples, batch_size=NUM_PAIRS, timeout=240):
    """One training step's rollout: OpenRLHF's SamplesGenerator over its prompt dataloader. Runs
    in a thread so that a hang fails the test instead of stalling it."""
    from openrlhf.trainer.ppo_utils.samples_generator import SamplesGenerator

    strategy = strategy_for(batch_size=batch_size, n_samples=n_samples)
    generator = SamplesGenerator(strategy, prompt_dataloader(path, tokenizer, strategy), None, tokenizer, engines_)
    result = {}

    def target():
        try:
            result["samples"] = generator.generate_samples(
                temperature=1.0, max_new_tokens=256, max_len=4096, n_samples_per_prompt=n_samples
            )[0]
        except BaseException as exc:  # noqa: BLE001 (reported to the test thread)
            result["error"] = exc

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(timeout)
    assert not worker.is_alive(), f"the rollout step did not finish within {timeout} s"
    return strategy, result


def decoded(sample, tokenizer):
    """(judge prompt text, judgement text) of one sample, from the token ids OpenRLHF holds."""
    ids = sample.sequences[0].tolist()
    action = sample.action_mask[0].tolist()  # mask over ids[1:]
    first = 1 + action.index(1)
    return tokenizer.decode(ids[:first]), tokenizer.decode(ids[first:], skip_special_tokens=True)


def snapped(values):
    return [round(v / QUANTUM) * QUANTUM for v in values]


def side_norm_reference(rewards):
    """Per side: (r - mean) / (stdev + 1e-6), on snapped rewards, snapped (plain Python)."""
    out = []
    for side in (rewards[:N_PER_SIDE], rewards[N_PER_SIDE:]):
        mean = sum(side) / len(side)
        std = statistics.stdev(side)
        out.extend((r - mean) / (std + 1e-6) for r in side)
    return snapped(out)


def test_pair_rows_reach_the_executor_whole_through_openrlhfs_shuffled_loader(pair_rows, tokenizer):
    import patarm
    from patarm.openrlhf import parse_pair_label

    strategy = strategy_for(batch_size=len(PAIRS), n_samples=2 * N_PER_SIDE)
    loader = prompt_dataloader(pair_rows["pointwise"], tokenizer, strategy)
    epochs = [list(loader) for _ in range(4)]
    seen = []
    for batch in epochs[0]:
        _, prompts, labels, _ = batch
        task = parse_pair_label(labels[0])
        seen.append(task.pair_id)
        for side, messages in (("chosen", task.chosen), ("rejected", task.rejected)):
            assert messages == [
                {
                    "role": "user",
                    "content": patarm.build_prompt(
                        f"Question about {task.pair_id}?", marker(task.pair_id, side), domain="chat"
                    ),
                }
            ]
        assert task.source == "patarm/chat" and prompts[0] == f"PaTaRM pair {task.pair_id} (patarm/chat)"
    assert sorted(seen) == sorted(PAIRS)  # every pair once per epoch, one row each
    orders = {tuple(parse_pair_label(b[2][0]).pair_id for b in epoch) for epoch in epochs}
    assert len(orders) > 1  # the loader reshuffles rows every epoch (4 equal orders: p = 120^-3)


def test_training_step_rewards_are_par_over_each_pairs_2n_judgements(engines, pair_rows, tokenizer, monkeypatch):
    engines_, script, _ = engines
    write_script(script, pointwise_rules(), "pointwise")
    n_samples = 2 * N_PER_SIDE
    strategy, result = run_step(engines_, pair_rows["pointwise"], tokenizer, n_samples=n_samples)
    assert "error" not in result, result.get("error")
    samples = result["samples"]
    assert len(samples) == len(PAIRS) * n_samples

    expected_advantages, identical_rows = [], []
    for start in range(0, len(samples), n_samples):
        row = samples[start : start + n_samples]
        texts, sides, pair_ids = [], [], set()
        for sample in row:
            prompt_text, judgement_text = decoded(sample, tokenizer)
            ((pair_id, side),) = [(p, s) for p in PAIRS for s in ("chosen", "rejected") if marker(p, s) in prompt_text]
            pair_ids.add(pair_id)
            texts.append(judgement_text)
            sides.append(side)
        assert len(pair_ids) == 1, "a row's samples judge one pair"
        assert sides == ["chosen"] * N_PER_SIDE + ["rejected"] * N_PER_SIDE
        (pair_id,) = pair_ids
        assert sorted(texts[:N_PER_SIDE]) == sorted(PAIRS[pair_id][0])
        assert sorted(texts[N_PER_SIDE:]) == sorted(PAIRS[pair_id][1])

        reference = par_reference.score_batch(texts, [pair_id] * n_samples, sides)
        rewards = snapped(reference["reward"])
        assert [s.scores.item() for s in row] == rewards
        assert [s.info["pair_reward"].item() for s in row] == rewards
        assert [s.info["par"].item() for s in row] == snapped(reference["par"])
        assert [s.info["format_error"].item() for s in row] == [float(e != 0) for e in reference["error_code"]]
        assert [s.info["side_is_chosen"].item() for s in row] == [float(s == "chosen") for s in sides]
        advantages = side_norm_reference(rewards)
        assert [s.rewards.item() for s in row] == pytest.approx(advantages, abs=QUANTUM)
        expected_advantages.extend(s.rewards.item() for s in row)
        if len(set(rewards[:N_PER_SIDE])) == 1 and len(set(rewards[N_PER_SIDE:])) == 1:
            identical_rows.append(start // n_samples)
    assert len(identical_rows) == 3  # p-same-14, p-same-12, and p-no-valid-rejected (0s and -1.5s)

    # OpenRLHF's experience maker, dr_grpo: it only subtracts each row's mean of these values.
    module = load_experience_maker(monkeypatch)
    from openrlhf.trainer.ppo_utils.kl_controller import FixedKLController

    maker = module.RemoteExperienceMaker(
        FakeActorGroup(), None, None, None, FixedKLController(0.0), strategy, tokenizer
    )
    experiences = maker.make_experience_batch(samples)
    per_sample = []
    for experience in experiences:
        for advantages, mask in zip(experience.advantages, experience.action_mask, strict=True):
            values = advantages[mask.bool()]
            assert torch.all(values == values[0]), "one advantage per judgement (reward at its last token)"
            per_sample.append(values[0].item())
    given = torch.tensor(expected_advantages, dtype=torch.float32).reshape(-1, n_samples)
    centred = (given - given.mean(-1, keepdim=True)).reshape(-1).tolist()
    assert per_sample == pytest.approx(centred, abs=1e-6)
    for row in identical_rows:
        assert per_sample[row * n_samples : (row + 1) * n_samples] == [0.0] * n_samples


def test_identical_rewards_would_not_cancel_in_float32_group_norm_unsnapped(monkeypatch, tokenizer):
    """Why the executor snaps: OpenRLHF's own group_norm on 8 unsnapped 1.4 rewards is not 0."""
    module = load_experience_maker(monkeypatch)
    from openrlhf.trainer.ppo_utils.experience import Experience
    from openrlhf.trainer.ppo_utils.kl_controller import FixedKLController

    def advantages_for(reward):
        strategy = strategy_for(batch_size=1, n_samples=8, estimator="group_norm")
        samples = [
            Experience(
                sequences=torch.ones(1, 4, dtype=torch.long),
                attention_mask=torch.ones(1, 4),
                action_mask=torch.ones(1, 3, dtype=torch.bool),
                rewards=torch.tensor([reward]),
                info={},
            )
            for _ in range(8)
        ]
        maker = module.RemoteExperienceMaker(
            FakeActorGroup(), None, None, None, FixedKLController(0.0), strategy, tokenizer
        )
        return torch.cat([e.advantages.flatten() for e in maker.make_experience_batch(samples)])

    assert advantages_for(1.4).abs().max().item() > 0.5  # about 0.93, from float32 rounding alone
    assert advantages_for(round(1.4 / QUANTUM) * QUANTUM).abs().max().item() == 0.0


def test_pairwise_rows_get_the_verdict_reward(engines, pair_rows, tokenizer):
    engines_, script, _ = engines
    verdicts = ["A", "B", "A", "nonsense"]
    rules = [
        {"match": f"Question about {pair_id}?", "judgements": [judgement(v) for v in verdicts]} for pair_id in PAIRS
    ]
    write_script(script, rules, "pairwise")
    strategy, result = run_step(engines_, pair_rows["pairwise"], tokenizer, n_samples=4)
    assert "error" not in result, result.get("error")
    samples = result["samples"]
    assert len(samples) == len(PAIRS) * 4
    from patarm.openrlhf import parse_pair_label

    for start in range(0, len(samples), 4):
        row = samples[start : start + 4]
        answer = parse_pair_label(row[0].labels[0]).answer
        texts = [decoded(s, tokenizer)[1] for s in row]
        assert sorted(texts) == sorted(judgement(v) for v in verdicts)
        expected = []
        for text in texts:
            verdict, error = par_reference.parse(text, pairwise=True)
            expected.append((1.0 if verdict == answer else 0.0) + par_reference.FORMAT_REWARD[error])
        assert [s.scores.item() for s in row] == expected
        mean, std = sum(expected) / 4, statistics.stdev(expected)
        assert [s.rewards.item() for s in row] == pytest.approx(
            snapped([(r - mean) / (std + 1e-6) for r in expected]), abs=QUANTUM
        )


def test_a_failed_generation_fails_its_step_promptly_and_releases_its_partners(engines, pair_rows, tokenizer):
    engines_, script, events = engines
    rules = pointwise_rules()
    for rule in rules:
        if rule["match"] == marker("p-mixed", "rejected"):
            rule["fail"] = 2  # the second rejected judgement of this pair fails in the engine
    write_script(script, rules, "failing", max_delay=0.3)
    events.write_text("")
    started = time.monotonic()
    _, result = run_step(engines_, pair_rows["pointwise"], tokenizer, n_samples=2 * N_PER_SIDE, timeout=120)
    assert isinstance(result.get("error"), Exception), "the step must fail, not hang or succeed"
    assert "scripted failure" in str(result["error"])
    assert time.monotonic() - started < 60

    # Every request the engines started ends (finished, failed, or cancelled with its pair):
    # nothing is left waiting for a partner, and the other pairs' rows complete.
    others = (len(PAIRS) - 1) * 2 * N_PER_SIDE
    deadline = time.monotonic() + 60
    while True:
        lines = [json.loads(line) for line in events.read_text().splitlines() if line]
        ends = {e["request"]: e["event"] for e in lines if e["event"] != "start"}
        open_requests = {e["request"] for e in lines if e["event"] == "start"} - set(ends)
        outcomes = list(ends.values())
        if (not open_requests and outcomes.count("finished") >= others) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert not open_requests
    assert outcomes.count("failed") == 1 and outcomes.count("finished") >= others

    # The engines are healthy afterwards: the next step trains normally.
    write_script(script, pointwise_rules(), "after-failure")
    _, result = run_step(engines_, pair_rows["pointwise"], tokenizer, n_samples=2 * N_PER_SIDE)
    assert "error" not in result and len(result["samples"]) == len(PAIRS) * 2 * N_PER_SIDE
