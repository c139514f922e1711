"""patarm.Judge against a real chat-completions server on 127.0.0.1 (tests/chat_server.py)."""

import asyncio
import math
import pickle

import numpy as np
import pytest

pytest.importorskip("httpx")

import patarm
from chat_server import ChatServer, judgement
from patarm.workflow.judge.client import Judge, JudgeError
from patarm.workflow.judge.results import Results

MALFORMED = "<think>no rubrics, no eval</think><answer>7</answer>"
OUT_OF_RANGE = judgement("11")


def make_judge(server, **kwargs):
    kwargs.setdefault("backoff", 0.01)
    return Judge(server.url, "patarm-judge", **kwargs)


def test_score_samples_n_parses_and_mean_votes():
    rules = [{"match": "RESPONSE-1", "judgements": [judgement(8), judgement(6), MALFORMED, judgement("7.0")]}]
    with ChatServer(rules) as server:
        result = make_judge(server, n=4, temperature=0.7, max_tokens=512).score("Q?", "RESPONSE-1", domain="math")
        (request,) = server.requests
    assert result.score == pytest.approx((8 + 6 + 7) / 3)  # the malformed judgement has no vote
    assert np.isnan(result.scores[2]) and result.scores[[0, 1, 3]].tolist() == [8.0, 6.0, 7.0]
    assert result.errors == [None, None, "missing_or_misordered_tags", None]
    assert result.judgements[2] == MALFORMED and result.num_valid == 3 and result.n == 4
    assert request["model"] == "patarm-judge" and request["n"] == 4
    assert request["temperature"] == 0.7 and request["max_tokens"] == 512
    assert request["messages"] == [{"role": "user", "content": patarm.build_prompt("Q?", "RESPONSE-1", domain="math")}]
    assert repr(result) == "ScoreResult(score=7, valid=3/4, domain='math')"


def test_invalid_verdicts_only_give_nan_not_an_exception():
    with ChatServer([{"match": "R", "judgements": [OUT_OF_RANGE, MALFORMED]}]) as server:
        result = make_judge(server, n=2).score("Q", "R")
    assert math.isnan(result.score) and result.errors == ["invalid_verdict", "missing_or_misordered_tags"]


@pytest.mark.parametrize("max_n, requests", [(1, 4), (3, 2)])
def test_servers_that_ignore_or_cap_n_are_topped_up(max_n, requests):
    rules = [{"match": "R", "judgements": [judgement(s) for s in (1, 2, 3, 4)], "max_n": max_n}]
    with ChatServer(rules) as server:
        result = make_judge(server, n=4).score("Q", "R")
        assert len(server.requests) == requests
    assert sorted(result.scores.tolist()) == [1.0, 2.0, 3.0, 4.0]


def test_use_n_false_sends_single_sample_requests():
    with ChatServer([{"match": "R", "judgements": [judgement(5)]}]) as server:
        result = make_judge(server, n=3, use_n=False).score("Q", "R")
        assert [r["n"] for r in server.requests] == [1, 1, 1]
    assert result.scores.tolist() == [5.0, 5.0, 5.0]


def test_http_500_is_retried_with_backoff():
    with ChatServer([{"match": "R", "judgements": [judgement(9)], "fail_first": 2}]) as server:
        result = make_judge(server, n=1, max_retries=3).score("Q", "R")
        assert len(server.requests) == 3
    assert result.score == 9.0


def test_persistent_500_raises_after_the_last_retry():
    with ChatServer([{"match": "R", "judgements": [judgement(9)], "fail_first": 100}]) as server:
        with pytest.raises(JudgeError, match=r"failed after 3 attempts; last: HTTP 500"):
            make_judge(server, n=1, max_retries=2).score("Q", "R")
        assert len(server.requests) == 3


def test_client_errors_are_not_retried():
    with ChatServer([{"match": "R", "judgements": [judgement(9)], "status": 400}]) as server:
        with pytest.raises(JudgeError, match="HTTP 400 .not retried"):
            make_judge(server, n=1, max_retries=5).score("Q", "R")
        assert len(server.requests) == 1


def test_a_slow_reply_times_out_and_is_retried():
    rules = [{"match": "R", "judgements": [judgement(6)], "slow_first": 1, "delay": 2.0}]
    with ChatServer(rules) as server:
        result = make_judge(server, n=1, timeout=0.3, max_retries=2).score("Q", "R")
        assert len(server.requests) == 2
    assert result.score == 6.0


def test_unreachable_server_raises_judge_error():
    with ChatServer([]) as server:
        url = server.url
    judge = Judge(url, "m", n=1, max_retries=1, backoff=0.01, timeout=1)
    with pytest.raises(JudgeError, match="failed after 2 attempts"):
        judge.score("Q", "R")


def test_compare_reports_mean_and_majority_votes():
    rules = [
        # pair 1: mean 7 vs 6; rounds 8>7 chosen, 8<9 rejected, 3=3 nobody, 9>5 chosen -> 2:1
        {"match": "C1", "judgements": [judgement(s) for s in (8, 8, 3, 9)]},
        {"match": "R1", "judgements": [judgement(s) for s in (7, 9, 3, 5)]},
        # pair 2: mean 5.5 vs 2.5 is correct, but rounds 10>2 and 1<3 tie 1:1 -> majority wrong
        {"match": "C2", "judgements": [judgement(s) for s in (10, 1, 10, 1)]},
        {"match": "R2", "judgements": [judgement(s) for s in (2, 3, 2, 3)]},
    ]
    with ChatServer(rules) as server:
        results = make_judge(server, n=4).compare_many(["Q1", "Q2"], ["C1", "C2"], ["R1", "R2"])
    first, second = results
    assert (first.chosen.score, first.rejected.score) == (7.0, 6.0)
    assert first.mean_correct and first.majority_correct and first.votes == (2, 1)
    assert second.mean_correct and not second.majority_correct and second.votes == (2, 2)
    assert first.margin == pytest.approx(1.0)


def test_tied_means_are_not_correct():
    rules = [{"match": "CC", "judgements": [judgement(5)]}, {"match": "RR", "judgements": [judgement(5)]}]
    with ChatServer(rules) as server:
        result = make_judge(server, n=2).compare("Q", "CC", "RR")
    assert not result.mean_correct and not result.majority_correct and result.votes == (0, 0)


def test_async_api_bounds_concurrency_and_keeps_order():
    rules = [{"match": f"R{i}", "judgements": [judgement(i)], "slow_first": 100, "delay": 0.1} for i in range(6)]

    async def run():
        async with make_judge(server, n=1, max_concurrency=2, timeout=10) as judge:
            return await judge.ascore_many(["Q"] * 6, [f"R{i}" for i in range(6)])

    with ChatServer(rules) as server:
        results = asyncio.run(run())
        assert server.max_in_flight <= 2
    assert [r.score for r in results] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_sync_wrapper_works_inside_a_running_event_loop():
    """Jupyter runs cells inside an event loop: the sync API must still work there."""
    with ChatServer([{"match": "R", "judgements": [judgement(4)]}]) as server:
        judge = make_judge(server, n=1)

        async def notebook_cell():
            return judge.score("Q", "R")

        assert asyncio.run(notebook_cell()).score == 4.0


def test_reasoning_content_is_put_back_into_the_judgement():
    rules = [{"match": "R", "judgements": [judgement(8, think="step by step")], "reasoning": True}]
    with ChatServer(rules) as server:
        result = make_judge(server, n=1).score("Q", "R")
    assert result.score == 8.0 and result.judgements[0].startswith("<think>step by step</think>")


def test_results_export_to_pandas():
    pd = pytest.importorskip("pandas")
    rules = [{"match": "CX", "judgements": [judgement(9), MALFORMED]}, {"match": "RX", "judgements": [judgement(3)]}]
    with ChatServer(rules) as server:
        judge = make_judge(server, n=2)
        pairs = judge.compare_many(["Q"], ["CX"], ["RX"])
        scores = judge.score_many(["Q", "Q"], ["CX", "RX"])
    assert isinstance(pairs, Results) and repr(pairs) == "Results(1 x PairResult)"
    frame = pairs.to_pandas()
    assert isinstance(frame, pd.DataFrame)
    assert frame.loc[0, "chosen_score"] == 9.0 and frame.loc[0, "rejected_score"] == 3.0
    assert bool(frame.loc[0, "mean_correct"]) and frame.loc[0, "chosen_judgements"][1] == MALFORMED
    frame = scores.to_pandas()
    assert list(frame["score"]) == [9.0, 3.0] and list(frame["num_valid"]) == [1, 2]


def test_judge_pickles_and_has_a_short_repr():
    judge = Judge("http://127.0.0.1:9/v1", "m", n=3, domain="code")
    clone = pickle.loads(pickle.dumps(judge))
    assert (clone.url, clone.model, clone.n, clone.domain) == (judge.url, "m", 3, "code")
    assert repr(clone) == "Judge(model='m', url='http://127.0.0.1:9/v1/chat/completions', n=3, domain='code')"
    assert Judge("http://h:1", "m").url == "http://h:1/v1/chat/completions"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(base_url="localhost:8000"), "must start with http"),
        (dict(n=0), "n must be a positive int"),
        (dict(max_concurrency=0), "max_concurrency must be >= 1"),
    ],
)
def test_bad_settings_are_caller_errors(kwargs, message):
    args = dict(base_url="http://127.0.0.1:9/v1", model="m")
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        Judge(**args)


def test_mismatched_lengths_are_caller_errors():
    judge = Judge("http://127.0.0.1:9/v1", "m")
    with pytest.raises(ValueError, match="2 prompts but 1 responses"):
        judge.score_many(["a", "b"], ["x"])
    with pytest.raises(ValueError, match="differ in length"):
        judge.compare_many(["a"], ["x", "y"], ["z"])


def test_results_pickle_with_their_raw_judgements():
    from patarm.workflow.judge.client import ScoreResult, pair_results

    chosen = ScoreResult(
        "Q", "A", "chat", [judgement(8), MALFORMED], np.array([8.0, np.nan]), [None, "missing_or_misordered_tags"], 8.0
    )
    rejected = ScoreResult("Q", "B", "chat", [judgement(3), judgement(9)], np.array([3.0, 9.0]), [None, None], 6.0)
    (pair,) = pair_results([chosen], [rejected])
    # round 1: 8 > 3 votes chosen; round 2: the malformed judgement votes for nobody
    assert pair.mean_correct and pair.votes == (1, 0) and pair.majority_correct
    results = Results([pair])
    clone = pickle.loads(pickle.dumps(results))
    assert isinstance(clone, Results) and clone[0].chosen.judgements == chosen.judgements
    assert np.isnan(clone[0].chosen.scores[1]) and clone[0].votes == (1, 0)
    assert repr(clone[0]) == "PairResult(chosen=8, rejected=6, mean_correct=True, majority_correct=True)"


@pytest.mark.parametrize(
    "settings", [dict(n=True), dict(n=2.0), dict(max_concurrency="8"), dict(max_concurrency=False)]
)
def test_judge_refuses_non_int_counts(settings):
    with pytest.raises(ValueError, match="must be"):
        patarm.Judge("http://127.0.0.1:9/v1", "m", **settings)


def test_connections_spread_over_small_pools_reach_max_concurrency_and_stay_warm():
    """Connections live in several small httpx pools (httpcore's per-request cost grows with a
    pool): together they still carry max_concurrency requests, and a light load reuses one."""
    from patarm.workflow.judge import transport

    rules = [
        {"match": "SLOW", "judgements": [judgement(5)], "slow_first": 10**6, "delay": 0.5},
        {"match": "FAST", "judgements": [judgement(6)]},
    ]
    with ChatServer(rules) as server:
        judge = make_judge(server, n=1, max_concurrency=40, timeout=30)

        async def run():
            async with judge:
                for _ in range(5):  # one at a time: one warm connection is enough
                    await judge.ascore_many(["Q"], ["FAST"])
                sequential_connections = server.connections
                results = await judge.ascore_many(["Q"] * 40, ["SLOW"] * 40)
                return sequential_connections, results, len(judge._state().clients)

        sequential_connections, results, pools = asyncio.run(run())
        assert sequential_connections == 1
        assert transport.POOL_SHARD_CONNECTIONS < server.max_in_flight <= 40
        assert server.connections <= 40 + 1
    assert pools == -(-40 // transport.POOL_SHARD_CONNECTIONS) > 1 and all(r.score == 5.0 for r in results)


def test_pools_share_one_tls_context():
    import ssl

    import httpx

    from patarm.workflow.judge.transport import shared_tls

    assert shared_tls(httpx, "http://127.0.0.1:8000/v1/chat/completions") is False  # no TLS to set up
    assert isinstance(shared_tls(httpx, "https://judge.example/v1/chat/completions"), ssl.SSLContext)
