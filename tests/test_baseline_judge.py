"""Baseline judges (docs/method.md §6, the paper's appendix B.1): the built-in baseline prompt,
the answer-only parse mode, and a baseline LLM scored by ``Judge`` and ``patarm evaluate``
beside a PaTaRM judge under the same voting and tables."""

import json
import pickle

import numpy as np
import pytest

import patarm
from patarm import PromptTemplate, TemplateError, parse_judgement, parse_judgements
from patarm.workflow.cli import main


def test_baseline_prompt_text_follows_the_paper():
    template = PromptTemplate.baseline()
    assert template.answer_only and not template.pairwise
    assert template.slots == ("prompt", "response")
    text = patarm.build_prompt("What is 2+2?", "4", template="baseline")
    assert text == patarm.build_prompt("What is 2+2?", "4", template=template)
    parts = [
        "act as an impartial judge",
        "helpfulness, relevance, accuracy, depth, creativity, and level of detail",
        "short explanation",
        "objective",
        "scale of 1 to 10",
        "output only the number inside <answer>...</answer>",
        "<query>\nWhat is 2+2?\n</query>",
        "<response>\n4\n</response>",
    ]
    positions = [text.find(part) for part in parts]
    assert -1 not in positions and positions == sorted(positions), positions
    for patarm_only in ("<rubrics>", "<think>", "<generate_rubrics>", "<eval>"):
        assert patarm_only not in text
    # "patarm" names the default template; the baseline cannot build a pairwise prompt.
    assert patarm.build_prompt("q", "r", template="patarm") == patarm.build_prompt("q", "r")
    with pytest.raises(TemplateError, match="pointwise template cannot build a pairwise prompt"):
        patarm.build_pairwise_prompt("q", "a", "b", template="baseline")
    assert patarm.build_prompts(["q1", "q2"], ["r1", "r2"], template="baseline")[1] == patarm.build_prompt(
        "q2", "r2", template="baseline"
    )


def test_answer_only_templates_pickle_and_need_no_rubrics():
    for template in (PromptTemplate.baseline(), PromptTemplate("Rate {response} to {prompt}", answer_only=True)):
        clone = pickle.loads(pickle.dumps(template))
        assert clone == template and clone.answer_only
        assert repr(template).startswith("PromptTemplate(pointwise, answer-only") and len(repr(template)) < 120
    assert PromptTemplate("{rubrics}{prompt}{response}") != PromptTemplate(
        "{rubrics}{prompt}{response}", answer_only=True
    )
    with pytest.raises(TemplateError, match=r"missing the slot\(s\) \{rubrics\}"):
        PromptTemplate("Rate {response} to {prompt}")


def test_answer_only_parse_mode():
    baseline = "The reply is correct and concise.\n<answer> 8 </answer>"
    judgement = parse_judgement(baseline, answer_only=True)
    assert (judgement.score, judgement.error, judgement.answer) == (8.0, None, "8")
    assert judgement.think is None and judgement.rubrics == [] and judgement.eval is None
    assert parse_judgement(baseline).error == "missing_or_misordered_tags"
    texts = [
        baseline,
        "<answer>2</answer> no, <answer>9.5</answer>",
        "<answer>0</answer>",
        "Rating: [[7]]",
        "<answer>11</answer>",
    ]
    out = parse_judgements(texts, answer_only=True)
    assert out["score"][:2].tolist() == [8.0, 9.5] and np.isnan(out["score"][2:]).all()
    assert out["error_code"].tolist() == [0, 0, 2, 1, 2]
    assert out["format_reward"].tolist() == [0.0, 0.0, -1.0, -1.5, -1.0]
    rewards = patarm.score_batch(texts[:2], [1, 1], ["rejected", "chosen"], answer_only=True)
    assert rewards["reward"].tolist() == [1.2, 1.2]  # 9.5 - 8 = 1.5: graded band (0, 2]


def test_judge_scores_a_baseline_llm_beside_a_patarm_judge():
    pytest.importorskip("httpx")
    from chat_server import ChatServer, judgement

    rules = [
        {
            "match": "impartial judge",
            "judgements": [
                "Clear and right. <answer>9</answer>",
                "Fine. <answer>7</answer>",
                "I cannot rate this.",
                "<answer>0</answer>",
            ],
        },
        {"match": "<rubrics>", "judgements": [judgement(6)]},
    ]
    with ChatServer(rules) as server:
        baseline = patarm.Judge(server.url, "gpt", n=4, template="baseline", backoff=0.01)
        patarm_judge = patarm.Judge(server.url, "patarm", n=4, backoff=0.01)
        result = baseline.score("Q?", "A response", domain="math")
        reference = patarm_judge.score("Q?", "A response", domain="math")
        baseline_request, _ = server.requests
    assert baseline.answer_only and not patarm_judge.answer_only
    assert result.score == 8.0 and result.num_valid == 2  # mean of 9 and 7: same mean voting
    assert result.errors == [None, None, "missing_or_misordered_tags", "invalid_verdict"]
    assert reference.score == 6.0
    assert baseline_request["messages"] == [
        {"role": "user", "content": patarm.build_prompt("Q?", "A response", template="baseline")}
    ]
    clone = pickle.loads(pickle.dumps(baseline))
    assert clone.answer_only and "template='baseline'" in repr(clone)
    with pytest.raises(ValueError, match="pointwise template"):
        patarm.Judge(server.url, "m", template=PromptTemplate.default(pairwise=True))
    with pytest.raises(TemplateError):
        patarm.Judge(server.url, "m", template="no slots here")


def test_cli_evaluate_template_baseline_live_and_from_file(tmp_path):
    pytest.importorskip("httpx")
    from chat_server import ChatServer

    benchmark = tmp_path / "rb.jsonl"
    rows = [
        {"id": 1, "prompt": "p1", "chosen": "GOOD-1", "rejected": "BAD-1", "subset": "alpacaeval-easy"},
        {"id": 2, "prompt": "p2", "chosen": "GOOD-2", "rejected": "BAD-2", "subset": "alpacaeval-easy"},
    ]
    benchmark.write_text("".join(json.dumps(r) + "\n" for r in rows))
    rules = [
        {"match": "GOOD-1", "judgements": ["ok <answer>8</answer>", "<answer>9</answer>"]},
        {"match": "BAD-1", "judgements": ["<answer>3</answer>"]},
        {"match": "GOOD-2", "judgements": ["<answer>4</answer>"]},
        {"match": "BAD-2", "judgements": ["<answer>4</answer>"]},  # a tie: wrong by default
    ]
    saved, out_json = tmp_path / "judgements.jsonl", tmp_path / "r.json"
    with ChatServer(rules) as server:
        assert (
            main(
                [
                    "evaluate",
                    str(benchmark),
                    "--judge-url",
                    server.url,
                    "--model",
                    "gpt",
                    "-n",
                    "2",
                    "--template",
                    "baseline",
                    "--save-judgements",
                    str(saved),
                    "--json",
                    str(out_json),
                    "--quiet",
                ]
            )
            == 0
        )
        prompts = [r["messages"][0]["content"] for r in server.requests]
    assert all("impartial judge" in p and "<rubrics>" not in p for p in prompts)
    report = json.loads(out_json.read_text())
    assert report["results"]["mean"]["2"]["subsets"]["alpacaeval-easy"] == {"accuracy": 0.5, "pairs": 2}
    again = tmp_path / "again.json"
    assert (
        main(
            [
                "evaluate",
                str(benchmark),
                "--judgements",
                str(saved),
                "--template",
                "baseline",
                "--json",
                str(again),
                "--quiet",
            ]
        )
        == 0
    )
    assert json.loads(again.read_text())["results"] == report["results"]
    # The same file read with the PaTaRM rules has no valid score: every pair is wrong.
    strict = tmp_path / "strict.json"
    assert main(["evaluate", str(benchmark), "--judgements", str(saved), "--json", str(strict), "--quiet"]) == 0
    assert json.loads(strict.read_text())["results"]["mean"]["2"]["subsets"]["alpacaeval-easy"]["accuracy"] == 0.0
