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
    assert rewards == pytest.approx([0.8, 0.2])  # mean of the valid scores (9, 7) and (2, 2, 2), x 0.1
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
    # group P1, rounds: 9>4 A; 5<6 B; 7=7 shared: nobody; 2>1 A -> A 2/4, B 1/4, C no valid judgement
    # group P2 has one completion: it wins every round with a valid score
    assert rewards == [0.5, 0.25, 0.0, 1.0]


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
