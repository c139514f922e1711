"""The judge as a downstream reward model: OpenRLHF's reward_func and verl 0.9's async
compute_score, against a real chat-completions server on 127.0.0.1."""

import asyncio
import importlib.util
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

pytest.importorskip("httpx")

import patarm
from chat_server import ChatServer, judgement
from frameworks import import_framework_free

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "openrlhf" / "reward_func.py"
CHATML = "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\n{}<|im_end|>\n<|im_start|>assistant\n"


@pytest.fixture
def judge_env(monkeypatch):
    def point_at(server, **extra):
        monkeypatch.setenv("PATARM_JUDGE_URL", server.url)
        monkeypatch.setenv("PATARM_JUDGE_MODEL", "patarm-judge")
        monkeypatch.setenv("PATARM_JUDGE_N", "2")
        for key, value in extra.items():
            monkeypatch.setenv(f"PATARM_JUDGE_{key}", str(value))

    return point_at


def load_example():
    """Load the example file exactly as OpenRLHF does (importlib from a path)."""
    spec = importlib.util.spec_from_file_location("reward_func", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.reward_func


def values(x):
    return x.tolist() if hasattr(x, "tolist") else list(x)


def test_reward_func_scores_each_response_with_the_judge(judge_env):
    rules = [
        {"match": "Hola.", "judgements": [judgement(8), judgement(9)]},
        {"match": "Bonjour.", "judgements": [judgement(2), "<answer>oops</answer>"]},
    ]
    prompt = CHATML.format("Say hello in Spanish.")
    with ChatServer(rules) as server:
        judge_env(server)
        out = load_example()([prompt + "Hola.<|im_end|>", prompt + "Bonjour.<|im_end|>"], [prompt, prompt], ["", ""])
        contents = [r["messages"][0]["content"] for r in server.requests]
    # float32-safe: multiples of 2^-10 (docs/method.md §4)
    assert values(out["rewards"]) == [8.5, 2.0]
    assert values(out["scores"]) == [round(0.85 * 1024) / 1024, round(0.2 * 1024) / 1024]
    assert values(out["extra_logs"]["judge_valid_fraction"]) == pytest.approx([1.0, 0.5])
    # the judge sees the user's request (not the chat template) and the bare response
    expected = patarm.build_prompt("Say hello in Spanish.", "Hola.", domain="instruction_following")
    assert expected in contents


def test_reward_func_runs_in_a_worker_thread_like_openrlhf(judge_env):
    """OpenRLHF 0.11 calls reward_func through asyncio.to_thread inside its event loop."""
    with ChatServer([{"match": "answer", "judgements": [judgement(6)]}]) as server:
        judge_env(server, SCALE=0.1)
        reward_func = load_example()

        async def rollout_actor():
            return await asyncio.to_thread(reward_func, ["Q answer"], ["Q "], [""])

        out = asyncio.run(rollout_actor())
    assert values(out["rewards"]) == [round(0.6 * 1024) / 1024]


def test_label_can_carry_prompt_and_domain(judge_env):
    with ChatServer([{"match": "x = 2", "judgements": [judgement(7)]}]) as server:
        judge_env(server)
        label = json.dumps({"prompt": "Solve x + 1 = 3.", "domain": "math"})
        out = load_example()(["templated prompt x = 2"], ["templated prompt "], [label])
        (request,) = server.requests
    assert request["messages"][0]["content"] == patarm.build_prompt("Solve x + 1 = 3.", "x = 2", domain="math")
    assert values(out["rewards"]) == [7.0]


def test_no_valid_judgement_gives_zero_reward(judge_env):
    with ChatServer([{"match": "R", "judgements": ["no tags at all"]}]) as server:
        judge_env(server)
        out = load_example()(["Q R"], ["Q "], [None])
    assert values(out["rewards"]) == [0.0] and values(out["scores"]) == [0.0]


def test_reward_func_needs_the_server_settings(monkeypatch):
    monkeypatch.delenv("PATARM_JUDGE_URL", raising=False)
    monkeypatch.delenv("PATARM_JUDGE_MODEL", raising=False)
    from patarm.openrlhf import reward_func

    with pytest.raises(ValueError, match="set PATARM_JUDGE_URL and PATARM_JUDGE_MODEL"):
        reward_func(["q"], ["p"], [""])
    with pytest.raises(ValueError, match="differ in length"):
        reward_func(["q", "r"], ["p"], [""])


# ---- verl 0.9 reward loop: async compute_score with reward_router_address ---------------------


def test_verl_compute_score_posts_to_the_reward_router():
    compute_score = import_framework_free("patarm.verl.reward_model").compute_score

    rules = [{"match": "Katze", "judgements": [judgement(9), judgement(7), "<think>x</think>"]}]
    with ChatServer(rules) as server:
        result = asyncio.run(
            compute_score(
                data_source="ifeval",
                solution_str="Katze",
                ground_truth=None,
                extra_info={"prompt": "Translate 'cat' to German."},
                reward_router_address=server.address,
                reward_model_tokenizer=SimpleNamespace(name_or_path="/ckpt/judge"),
                n=3,
            )
        )
        (request,) = server.requests
    assert result == {"score": 8.0, "judge_score": 8.0, "judge_valid": 2.0, "judge_n": 3.0, "judge_failed": 0.0}
    assert request["model"] == "/ckpt/judge" and request["n"] == 3
    expected = patarm.build_prompt("Translate 'cat' to German.", "Katze", domain="instruction_following")
    assert request["messages"] == [{"role": "user", "content": expected}]


def test_verl_compute_score_keeps_the_same_keys_without_a_valid_judgement():
    compute_score = import_framework_free("patarm.verl.reward_model").compute_score

    with ChatServer([{"match": "R", "judgements": ["garbage"]}]) as server:
        result = asyncio.run(
            compute_score(
                "d",
                "R",
                extra_info={"prompt": "Q", "domain": "chat"},
                reward_router_address=server.address,
                model="m",
                n=2,
                invalid_score=-1.0,
                scale=0.1,
            )
        )
    assert result == {"score": -1.0, "judge_score": -1.0, "judge_valid": 0.0, "judge_n": 2.0, "judge_failed": 1.0}


def test_verl_compute_score_is_float32_safe():
    compute_score = import_framework_free("patarm.verl.reward_model").compute_score

    # a mean of 22/3 is no binary fraction
    rules = [{"match": "R", "judgements": [judgement(7), judgement(8), judgement(7)]}]
    with ChatServer(rules) as server:
        result = asyncio.run(
            compute_score("d", "R", extra_info={"prompt": "Q"}, reward_router_address=server.address, model="m", n=3)
        )
    assert result["judge_score"] == pytest.approx(22 / 3)
    assert result["score"] == 7509 / 1024  # the nearest multiple of 2^-10


def test_verl_compute_score_flags_or_raises_a_failed_judge_call():
    compute_score = import_framework_free("patarm.verl.reward_model").compute_score
    from patarm.workflow.judge.client import JudgeError

    with ChatServer([{"match": "R", "status": 503, "judgements": []}]) as server:
        settings = dict(extra_info={"prompt": "Q"}, reward_router_address=server.address, model="m", n=2)
        settings.update(max_retries=0, invalid_score=5.0)
        with pytest.raises(JudgeError):
            asyncio.run(compute_score("d", "R", **settings))
        flagged = asyncio.run(compute_score("d", "R", on_judge_error="score", **settings))
        with pytest.raises(ValueError, match="on_judge_error='skip'"):
            asyncio.run(compute_score("d", "R", on_judge_error="skip", **settings))
    assert flagged == {"score": 5.0, "judge_score": 5.0, "judge_valid": 0.0, "judge_n": 0.0, "judge_failed": 1.0}


def test_verl_compute_score_concurrent_calls_share_one_client():
    compute_score = import_framework_free("patarm.verl.reward_model").compute_score

    rules = [{"match": f"R{i}", "judgements": [judgement(i)]} for i in range(5)]
    with ChatServer(rules) as server:

        async def reward_loop_worker():
            calls = [
                compute_score(
                    "d", f"R{i}", extra_info={"question": "Q"}, reward_router_address=server.address, model="m", n=1
                )
                for i in range(5)
            ]
            return await asyncio.gather(*calls)

        results = asyncio.run(reward_loop_worker())
    assert [r["score"] for r in results] == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_verl_compute_score_needs_a_prompt_and_a_server():
    compute_score = import_framework_free("patarm.verl.reward_model").compute_score

    with pytest.raises(ValueError, match=r"extra_info\['prompt'\]"):
        asyncio.run(compute_score("d", "R", extra_info={}, reward_router_address="127.0.0.1:9", model="m"))
    with pytest.raises(ValueError, match="reward_router_address"):
        asyncio.run(compute_score("d", "R", extra_info={"prompt": "Q"}, model="m"))


def test_verl_compute_score_keywords_win_over_the_environment(monkeypatch):
    compute_score = import_framework_free("patarm.verl.reward_model").compute_score

    # The environment sets n=4 and a scale; the keyword n=2 (verl's reward_kwargs) must win,
    # while the environment's scale still applies over the built-in default of 1.0.
    monkeypatch.setenv("PATARM_JUDGE_N", "4")
    monkeypatch.setenv("PATARM_JUDGE_SCALE", "0.5")
    with ChatServer([{"match": "R", "judgements": [judgement(6), judgement(8)]}]) as server:
        result = asyncio.run(
            compute_score("d", "R", extra_info={"prompt": "Q"}, reward_router_address=server.address, model="m", n=2)
        )
        (request,) = server.requests
    assert request["n"] == 2
    assert result["score"] == 3.5 and result["judge_n"] == 2.0


# ---- process-wide concurrency cap, and errors made visible ------------------------------------


def test_concurrency_cap_holds_across_all_calling_threads(judge_env):
    """OpenRLHF calls reward_func from many threads at once; the cap is for the whole process."""
    import concurrent.futures

    rules = [{"match": "slow", "judgements": [judgement(7)], "slow_first": 10**6, "delay": 0.1}]
    with ChatServer(rules) as server:
        judge_env(server, MAX_CONCURRENCY=4, N=1)
        reward_func = load_example()
        with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
            outs = list(pool.map(lambda i: reward_func([f"Q slow {i}"], ["Q "], [""]), range(32)))
    assert [values(o["rewards"]) for o in outs] == [[7.0]] * 32
    assert len(server.requests) == 32
    assert server.max_in_flight <= 4, "PATARM_JUDGE_MAX_CONCURRENCY=4 must hold across threads"
    assert server.connections <= 4, "one HTTP client (connection pool) per process"


def test_reward_func_logs_the_cause_at_error_then_raises(judge_env, caplog):
    from patarm.workflow.judge.client import JudgeError

    with ChatServer([{"match": "R", "judgements": [judgement(5)], "status": 404}]) as server:
        judge_env(server)
        with caplog.at_level("ERROR", logger="patarm.openrlhf.reward"), pytest.raises(JudgeError):
            load_example()(["Q R"], ["Q "], [""])
    (record,) = [r for r in caplog.records if r.levelname == "ERROR"]
    assert "HTTP 404" in record.getMessage() and "Fix: check that the judge server" in record.getMessage()


def test_missing_settings_are_logged_with_the_fix(monkeypatch, caplog):
    monkeypatch.delenv("PATARM_JUDGE_URL", raising=False)
    monkeypatch.delenv("PATARM_JUDGE_MODEL", raising=False)
    from patarm.openrlhf import reward_func

    with caplog.at_level("ERROR", logger="patarm.openrlhf.reward"), pytest.raises(ValueError):
        reward_func(["q"], ["p"], [""])
    assert "set PATARM_JUDGE_URL and PATARM_JUDGE_MODEL" in caplog.records[-1].getMessage()


def test_background_loop_is_one_per_process_and_renewed_after_fork():
    import os
    import select
    import signal

    from patarm.openrlhf.background_loop import background_loop, run_in_background

    async def loop_id():
        return id(asyncio.get_running_loop())

    first = run_in_background(loop_id())
    assert run_in_background(loop_id()) == first == id(background_loop())
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the parent's loop thread did not survive the fork: the child needs its own
        try:
            run_in_background(loop_id())
            os.write(write, b"1")
        finally:
            os._exit(0)
    ready, _, _ = select.select([read], [], [], 60)
    if not ready:
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    assert ready and os.read(read, 1) == b"1", "run_in_background hung in a forked child"
