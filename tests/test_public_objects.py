"""Every public class pickles (Ray ships objects between processes) and has a short repr.

The factories below must cover every class in the ``__all__`` of ``patarm`` and of the
workflow modules ``patarm.workflow.data``, ``patarm.workflow.evaluation.items``,
``patarm.workflow.evaluation.report`` and ``patarm.workflow.judge.log``: a new public class
without one fails ``test_every_public_class_has_a_factory``.
"""

import os
import pickle

import numpy as np
import pytest

import patarm
from patarm.workflow import data
from patarm.workflow.evaluation import evaluate, items, report
from patarm.workflow.judge import log as judge_log

GOOD = "<think>t</think><generate_rubrics>r</generate_rubrics><eval>e</eval><answer>{}</answer>"
MAX_REPR = 200


def _score_result(score: float) -> patarm.ScoreResult:
    return patarm.ScoreResult("prompt", "response", "chat", [GOOD.format(score)], np.array([score]), [None], score)


def _pair_result() -> patarm.PairResult:
    return patarm.PairResult(_score_result(8.0), _score_result(3.0), True, True, (1, 0))


def _rubric_cache():
    cache = data.RubricCache()
    cache.get("math")
    return cache


def _pairwise_results():
    from patarm.workflow.judge.pairwise import pairwise_results

    return patarm.PairwiseResults(
        pairwise_results(
            ["prompt"],
            ["good"],
            ["bad"],
            ["chat"],
            [[GOOD.format("A"), "broken"]],
            [[GOOD.format("B"), GOOD.format("A")]],
        )
    )


def _judgement_log():
    import tempfile

    log = judge_log.JudgementLog(tempfile.mkdtemp() + "/log.jsonl", resume=False)
    log.append({"id": "1", "side": "chosen"}, "h", [0, 1], ["text 0", "text 1"])
    return log


# name -> (factory, what a faithful copy must reproduce)
FACTORIES = {
    "Rubrics": (lambda: patarm.load_rubrics("math"), lambda r: (r.domain, r.render(), r.task)),
    "PromptTemplate": (lambda: patarm.PromptTemplate.default(pairwise=True), lambda t: (t.text, t.slots)),
    "RubricError": (lambda: patarm.RubricError("unknown domain 'x'"), lambda e: e.args),
    "TemplateError": (lambda: patarm.TemplateError("missing slot"), lambda e: e.args),
    "PairRandomSampler": (
        lambda: patarm.PairRandomSampler(10, seed=3, num_samples=6),
        lambda s: (list(s), s.state_dict()),
    ),
    "DistributedPairSampler": (
        lambda: patarm.DistributedPairSampler(10, num_replicas=2, rank=1, seed=5),
        lambda s: (list(s), s.state_dict()),
    ),
    "MajorityVote": (
        lambda: patarm.majority_vote([[8.0, 2.0, 6.0]], [[3.0, 4.0, 1.0]]),
        lambda v: (v.chosen_wins.tolist(), v.chosen_votes.tolist(), v.rejected_votes.tolist(), v.rounds),
    ),
    "Judgement": (lambda: patarm.parse_judgement(GOOD.format(7)), lambda j: j),
    "Graded": (lambda: patarm.Graded((1.0, 3.0), (1.1, 1.2, 1.5)), lambda g: g),
    "Constant": (lambda: patarm.Constant(1.3), lambda c: c),
    "PairRewards": (
        lambda: patarm.par_rewards([GOOD.format(8), "broken"], [GOOD.format(3)]),
        lambda p: (p.chosen.reward.tolist(), p.rejected.score.tolist(), p.chosen_mean, p.rejected_mean),
    ),
    "SideRewards": (
        lambda: patarm.par_rewards([GOOD.format(8)], [GOOD.format(3)]).chosen,
        lambda s: (s.reward.tolist(), s.par.tolist(), s.format_reward.tolist(), s.error_code.tolist(), s.mean),
    ),
    "Judge": (
        lambda: patarm.Judge("http://127.0.0.1:9/v1", "judge", n=4, domain="math"),
        lambda j: (j.url, j.model, j.n, j.domain, j.temperature, j.max_concurrency, j.timeout),
    ),
    "JudgeError": (lambda: patarm.JudgeError("server down"), lambda e: e.args),
    "ScoreResult": (lambda: _score_result(7.0), lambda r: r.to_record()),
    "PairResult": (_pair_result, lambda r: r.to_record()),
    "Results": (lambda: patarm.Results([_pair_result()]), lambda r: r.to_records()),
    # workflow: patarm.workflow.data and patarm.workflow.evaluation
    "data.Columns": (lambda: data.Columns(prompt="question"), lambda c: c),
    "data.RolloutColumns": (lambda: data.RolloutColumns(text="judgement"), lambda c: c),
    "data.DataError": (
        lambda: data.DataError("pairs.jsonl:line 3: missing 'chosen'"),
        lambda e: e.args,
    ),
    "data.PreferencePair": (
        lambda: data.PreferencePair("7", "prompt", "good", "bad", "math", where="pairs.jsonl:line 1"),
        lambda p: p,
    ),
    "data.PairJudgements": (
        lambda: data.PairJudgements(("src", "7"), [8.0, float("nan")], [3.0]),
        lambda p: (p.key, p.chosen[:1], p.rejected, p.verdicts_correct, p.fraction_correct()),
    ),
    "data.FilterReport": (
        lambda: data.FilterReport("rl", [(None, "1")], {(None, "2"): "too easy"}, {(None, "1"): {"f": 0.5}}),
        lambda r: r,
    ),
    "data.PrepareSummary": (
        lambda: data.PrepareSummary(2, 4, False, {"chat": 2}, {"p50": 10.0}),
        lambda s: s.to_dict(),
    ),
    "data.RubricCache": (_rubric_cache, lambda c: (c.rubric_file, c.get("math").render())),
    "report.EvaluationReport": (
        lambda: evaluate.evaluate_scores(
            "rewardbench",
            [items.Item("1", "prompt", ("good",), ("bad",), "hep-go")],
            {("1", "chosen", 0): np.array([8.0, 7.0]), ("1", "rejected", 0): np.array([3.0, 9.0])},
        ),
        lambda r: dict(r),
    ),
    "PairwiseResult": (lambda: _pairwise_results()[0], lambda r: r.to_record()),
    "PairwiseResults": (_pairwise_results, lambda r: (r.to_records(), r.summary())),
    "judge_log.JudgementLog": (
        _judgement_log,
        lambda log: (os.path.basename(log.path), log.done({"id": "1", "side": "chosen"}, "h")),
    ),
    "judge_log.JudgingStats": (
        lambda: judge_log.JudgingStats(
            judgements=4, received=4, requests=2, seconds=0.5, invalid=1, error_kinds={"invalid_verdict": 1}
        ),
        lambda s: s.to_dict(),
    ),
    "items.Item": (
        lambda: items.Item("1", "prompt", ("good",), ("bad",), "chat"),
        lambda i: i,
    ),
}

MODULES = {"": patarm, "data.": data, "items.": items, "report.": report, "judge_log.": judge_log}
PUBLIC_CLASSES = sorted(
    prefix + name
    for prefix, module in MODULES.items()
    for name in module.__all__
    if isinstance(getattr(module, name), type)
)


def _public_class(name):
    prefix, _, short = name.rpartition(".")
    return getattr(MODULES[prefix + "." if prefix else ""], short)


def test_every_public_class_has_a_factory():
    assert sorted(FACTORIES) == PUBLIC_CLASSES


@pytest.mark.parametrize("name", PUBLIC_CLASSES)
def test_pickles_and_has_a_short_repr(name):
    factory, essence = FACTORIES[name]
    original = factory()
    assert isinstance(original, _public_class(name))
    copy = pickle.loads(pickle.dumps(original))
    assert type(copy) is type(original)
    text = repr(original)
    assert repr(copy) == text
    assert 0 < len(text) <= MAX_REPR and "\n" not in text, text
    assert essence(copy) == essence(factory())  # last: iterating a sampler moves its epoch
