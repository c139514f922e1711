"""patarm.trl.JudgeReward against the loopback judge server (no trl needed: TRL calls an async
reward function with prompts, completions, the dataset columns, log_metric and log_extra)."""

import asyncio
import inspect
import math
import pickle

import pytest

pytest.importorskip("httpx")

import patarm
from chat_server import ChatServer, judgement
from patarm.workflow.judge.client import Judge, JudgeError

MALFORMED = "<think>no rubrics</think><answer>7</answer>"


def call(reward, prompts, completions, **columns):
    metrics, extra = {}, {}
    rewards = asyncio.run(
        reward(
            prompts=prompts,
            completions=completions,
            completion_ids=None,
            log_metric=metrics.__setitem__,
            log_extra=extra.__setitem__,
            trainer_state=None,
            **columns,
        )
    )
    return rewards, metrics, extra


def test_is_an_async_reward_function_exposed_lazily_by_patarm_trl():
    from patarm.trl import JudgeReward

    reward = JudgeReward(base_url="http://127.0.0.1:9/v1", model="judge")
    # trl.trainer.utils.is_async_callable: the instance is not, its __call__ is
    assert not inspect.iscoroutinefunction(reward) and inspect.iscoroutinefunction(reward.__call__)
    import patarm.trl

    assert "JudgeReward" in patarm.trl.__all__


def test_mean_voting_with_the_instruction_following_rubrics():
    from patarm.trl import JudgeReward

    rules = [
        {"match": "OBEYS", "judgements": [judgement(9), judgement(7), MALFORMED]},
        {"match": "IGNORES", "judgements": [judgement(2)]},
    ]
    with ChatServer(rules) as server:
        reward = JudgeReward(base_url=server.url, model="judge", n=3, scale=0.1, backoff=0.01)
        prompts = [[{"role": "user", "content": "Answer in lowercase."}]] * 2
        completions = [[{"role": "assistant", "content": "OBEYS"}], [{"role": "assistant", "content": "IGNORES"}]]
        rewards, metrics, extra = call(reward, prompts, completions)
        sent = [r["messages"][0]["content"] for r in server.requests]
    # mean of the valid scores (9, 7) and (2, 2, 2), x 0.1, float32-safe (multiples of 2^-10)
    assert rewards == [0.7998046875, 0.2001953125] == patarm.float32_safe([0.8, 0.2]).tolist()
    expected = patarm.build_prompt(prompts[0], "OBEYS", domain="instruction_following")
    assert expected in sent and all(r["n"] == 3 for r in server.requests)
    assert metrics["patarm_judge/judge_score"] == pytest.approx(5.0)
    assert metrics["patarm_judge/valid_judgement_rate"] == pytest.approx(5 / 6)
    assert metrics["patarm_judge/invalid/missing_or_misordered_tags"] == pytest.approx(1 / 6)
    assert metrics["patarm_judge/no_valid_judgement"] == 0.0 and metrics["patarm_judge/judgements_per_second"] > 0
    assert extra == {"patarm_judge_score": [8.0, 2.0], "patarm_judge_valid": [2, 3]}


def test_a_domain_column_picks_each_rows_rubrics():
    from patarm.trl import JudgeReward

    with ChatServer([{"match": "", "judgements": [judgement(5)]}]) as server:
        reward = JudgeReward(base_url=server.url, model="judge", n=1, backoff=0.01)
        call(reward, ["2+2?", "Hi"], ["4", "Hello"], domain=["math", None])
        sent = sorted(r["messages"][0]["content"] for r in server.requests)
    assert sent == sorted(
        [
            patarm.build_prompt("2+2?", "4", domain="math"),
            patarm.build_prompt("Hi", "Hello", domain="instruction_following"),
        ]
    )


@pytest.mark.parametrize("invalid_reward, expected", [(0.0, 0.0), (-1.0, -1.0), (None, None)])
def test_a_completion_without_a_valid_judgement_gets_the_invalid_reward(invalid_reward, expected):
    from patarm.trl import JudgeReward

    rules = [
        {"match": "BROKEN", "judgements": [MALFORMED, judgement(11)]},
        {"match": "FINE", "judgements": [judgement(6)]},
    ]
    with ChatServer(rules) as server:
        reward = JudgeReward(base_url=server.url, model="judge", n=2, invalid_reward=invalid_reward, backoff=0.01)
        rewards, metrics, _ = call(reward, ["Q", "Q"], ["BROKEN", "FINE"])
    assert rewards == [expected, 6.0]
    assert metrics["patarm_judge/no_valid_judgement"] == 0.5
    assert metrics["patarm_judge/invalid/invalid_verdict"] == 0.25


def test_majority_voting_counts_rounds_won_within_each_prompts_group():
    from patarm.trl import JudgeReward

    rules = [
        {"match": "G1-A", "judgements": [judgement(s) for s in (9, 5, 7, 2)]},
        {"match": "G1-B", "judgements": [judgement(s) for s in (4, 6, 7, 1)]},
        {"match": "G1-C", "judgements": [MALFORMED]},
        {"match": "G2-A", "judgements": [judgement(3)]},
    ]
    with ChatServer(rules) as server:
        reward = JudgeReward(base_url=server.url, model="judge", n=4, vote="majority", backoff=0.01)
        rewards, _, _ = call(reward, ["P1", "P1", "P1", "P2"], ["G1-A", "G1-B", "G1-C", "G2-A"])
    # group P1, rounds: 9>4 A; 5<6 B; 7=7 shared: nobody; 2>1 A -> A 2/4, B 1/4, C no valid
    # judgement (masked: None); group P2 has one completion: it wins every round with a valid score
    assert rewards == [0.5, 0.25, None, 1.0]


def test_an_unreachable_judge_is_an_error_not_a_reward():
    from patarm.trl import JudgeReward

    with ChatServer([]) as server:
        url = server.url
    reward = JudgeReward(base_url=url, model="judge", n=1, max_retries=0, timeout=1)
    with pytest.raises(JudgeError):
        call(reward, ["Q"], ["R"])


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(), ValueError, "JudgeReward needs a judge"),
        (dict(base_url="http://127.0.0.1:9/v1", model="m", vote="median"), ValueError, "vote='median'"),
        (dict(judge=Judge("http://127.0.0.1:9/v1", "m"), model="m"), ValueError, "either judge="),
        (dict(judge="http://127.0.0.1:9/v1"), TypeError, "judge must be a patarm.Judge"),
        (dict(base_url="http://127.0.0.1:9/v1", model="m", invalid_reward=math.nan), ValueError, "invalid_reward"),
    ],
)
def test_bad_settings_are_caller_errors(kwargs, error, message):
    from patarm.trl import JudgeReward

    with pytest.raises(error, match=message):
        JudgeReward(**kwargs)


def test_mismatched_inputs_are_caller_errors():
    from patarm.trl import JudgeReward

    reward = JudgeReward(base_url="http://127.0.0.1:9/v1", model="m")
    with pytest.raises(ValueError, match="2 prompts for 1 completions"):
        call(reward, ["a", "b"], ["x"])
    with pytest.raises(ValueError, match="`domain` column has 1 values for 2"):
        call(reward, ["a", "b"], ["x", "y"], domain=["math"])


def test_pickles_with_a_short_repr():
    from patarm.trl import JudgeReward

    reward = JudgeReward(base_url="http://127.0.0.1:9/v1", model="judge", n=4, vote="majority")
    clone = pickle.loads(pickle.dumps(reward))
    assert repr(clone) == repr(reward) == "JudgeReward(vote='majority', n=4, model='judge', name='patarm_judge')"
    assert clone.__name__ == "patarm_judge" and clone.judge.domain == "instruction_following"


def test_group_par_pays_each_completion_against_the_rest_of_its_group_and_mean_voting_does_not():
    from patarm.trl import JudgeReward

    rules = [
        {"match": "G1-A", "judgements": [judgement(9), judgement(8)]},
        {"match": "G1-B", "judgements": [judgement(6), MALFORMED]},
        {"match": "G1-C", "judgements": [judgement(5), judgement(7)]},
        {"match": "G2-A", "judgements": [judgement(4.4)]},
        {"match": "G2-B", "judgements": [judgement(2.4)]},
    ]
    prompts = ["P1", "P1", "P1", "P2", "P2"]
    completions = ["G1-A", "G1-B", "G1-C", "G2-A", "G2-B"]
    with ChatServer(rules) as server:
        judge = Judge(server.url, "judge", n=2, backoff=0.01)
        group, metrics, _ = call(JudgeReward(judge, vote="group_par"), prompts, completions)
        mean, _, _ = call(JudgeReward(judge, vote="mean"), prompts, completions)
        calls = len(server.requests)
    # P1: A's mean 8.5 against the others' pooled (6 + 5 + 7) / 3 = 6: gap 2.5 -> 1.4;
    # B: 6 against (9 + 8 + 5 + 7) / 4 = 7.25 -> 0; C: 6 against 23/3 -> 0.
    # P2: 4.4 against 2.4 is a gap of exactly 2 -> 1.2 (graded, decided exactly).
    assert group == [1.400390625, 0.0, 0.0, 1.2001953125, 0.0]
    assert mean == [8.5, 6.0, 6.0, 4.400390625, 2.400390625]  # float32-safe means
    assert calls == 2 * len(completions)  # n x k judge calls per vote, no pairwise comparisons
    assert metrics["patarm_judge/masked"] == 0.0


def test_group_par_takes_a_shape_only_with_group_par():
    from patarm.trl import JudgeReward

    rules = [{"match": "RESP-A", "judgements": [judgement(9)]}, {"match": "RESP-B", "judgements": [judgement(2)]}]
    with ChatServer(rules) as s:
        reward = JudgeReward(base_url=s.url, model="judge", n=1, vote="group_par", f=patarm.Constant(1.3))
        rewards, _, _ = call(reward, ["P", "P"], ["RESP-A", "RESP-B"])
    assert rewards == [1.2998046875, 0.0]
    with pytest.raises(ValueError, match="vote='group_par'"):
        JudgeReward(base_url="http://127.0.0.1:9/v1", model="m", f=patarm.Constant(1.3))


def test_a_failed_judge_call_masks_its_completion_and_is_counted():
    from patarm.trl import JudgeReward

    rules = [
        {"match": "DOWN", "status": 503, "judgements": []},
        {"match": "FINE", "judgements": [judgement(6)]},
    ]
    with ChatServer(rules) as server:
        reward = JudgeReward(base_url=server.url, model="judge", n=1, max_retries=0, backoff=0.01)
        rewards, metrics, _ = call(reward, ["Q", "Q"], ["DOWN", "FINE"])
        strict = JudgeReward(base_url=server.url, model="judge", n=1, max_retries=0, on_judge_error="raise")
        with pytest.raises(JudgeError):
            call(strict, ["Q", "Q"], ["DOWN", "FINE"])
        with pytest.raises(JudgeError, match="every judge call of this batch failed"):
            call(reward, ["Q"], ["DOWN"])
    assert rewards == [None, 6.0]  # TRL leaves None out of the group statistics (advantage 0)
    assert metrics["patarm_judge/judge_failed"] == 0.5 and metrics["patarm_judge/masked"] == 0.5
    with pytest.raises(ValueError, match="on_judge_error='skip'"):
        JudgeReward(base_url="http://127.0.0.1:9/v1", model="m", on_judge_error="skip")


def test_length_penalty_charges_longer_than_average_completions_and_the_correlation_is_logged():
    from patarm.trl import JudgeReward

    rules = [{"match": "x" * 30, "judgements": [judgement(9)]}, {"match": "short", "judgements": [judgement(3)]}]
    completions = ["x" * 30, "short" + " " * 5]  # 30 and 10 characters: group mean 20
    with ChatServer(rules) as server:
        plain = JudgeReward(base_url=server.url, model="judge", n=1)
        rewards, metrics, _ = call(plain, ["P", "P"], completions)
        penalised = JudgeReward(base_url=server.url, model="judge", n=1, length_penalty=2.0)
        charged, _, _ = call(penalised, ["P", "P"], completions)
    assert rewards == [9.0, 3.0]
    assert charged == [9.0 - 2.0 * 0.5, 3.0]  # (30 - 20) / 20 = 0.5 over the mean; shorter: no charge
    assert metrics["patarm_judge/score_length_correlation"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="length_penalty"):
        JudgeReward(base_url="http://127.0.0.1:9/v1", model="m", length_penalty=-1)
