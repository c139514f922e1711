"""Regression tests of issue 21's silent defects, below the trainer loop (unit tests: a
PairBoard with the real scorer, the option readers; the trainer-loop proofs are in
test_trainer_loop.py)."""

from __future__ import annotations

import asyncio

import pytest

from frameworks import require

require("verl")

from verl_batches import judgement  # noqa: E402

from patarm import Constant  # noqa: E402
from patarm.verl import PairRewardManager  # noqa: E402
from patarm.verl._rows import Options  # noqa: E402
from patarm.verl.pairing import PairBoard, pair_counters  # noqa: E402


@pytest.mark.parametrize("name", ["think_in_prompt", "pairwise", "allow_pointwise_fallback"])
@pytest.mark.parametrize("value", ["false", "no", "0", 1.0])
def test_yes_no_options_refuse_strings_that_bool_would_read_as_true(name, value):
    with pytest.raises(TypeError, match=name):
        Options.from_mapping({name: value}) if name != "allow_pointwise_fallback" else _fallback(value)


def _fallback(value):
    from patarm.verl._rows import read_flag

    read_flag({"allow_pointwise_fallback": value}, "allow_pointwise_fallback", False)


def test_yes_no_options_take_bools():
    options = Options.from_mapping({"think_in_prompt": False, "pairwise": None})
    assert options.think_in_prompt is False and options.pairwise is None
    assert Options.from_mapping({"think_in_prompt": True}).think_in_prompt is True


def test_f_by_import_path_and_number_text():
    assert Options.from_mapping({"f": "pkg://trainer_harness.steep_f"}).f(3.0) == 2.0
    assert Options.from_mapping({"f": "trainer_harness:steep_f"}).f(1.0) == 0.5
    assert Options.from_mapping({"f": "1.5"}).f == Constant(1.5)
    with pytest.raises(ValueError, match="cannot import"):
        Options.from_mapping({"f": "pkg://no_such_module.f"})


def test_a_rollout_the_board_never_registered_is_counted_not_silent(tokenizer, caplog):
    board = PairBoard(PairRewardManager(tokenizer=tokenizer), timeout_s=5)
    board.expect(("k", "right"), "src", 1, "chosen")
    # a key that differs from the registered one (the old reward_fn_key defect): scored alone at
    # once (PAR 0), counted and logged
    lone = asyncio.run(board.submit(("k", "wrong"), "src", 1, "chosen", judgement(9)))
    assert lone["par"] == 0.0 and lone["partner_found"] == 0.0
    assert board.stats["unregistered"] == 1
    assert "was not registered" in caplog.text


def test_release_frees_pairs_that_cannot_complete_and_answers_their_waiters(tokenizer):
    board = PairBoard(PairRewardManager(tokenizer=tokenizer), timeout_s=600)
    for pair in range(50):
        board.expect(("step", pair), "src", pair, "chosen", count=2)
        board.expect(("step", pair), "src", pair, "rejected", count=2)

    async def run():
        waiting = asyncio.ensure_future(board.submit(("step", 0), "src", 0, "chosen", judgement(9)))
        await asyncio.sleep(0.01)
        board.release([("step", pair) for pair in range(50)])
        return await asyncio.wait_for(waiting, 5)  # answered at once, not after the 600 s timeout

    result = asyncio.run(run())
    assert result["partner_found"] == 0.0 and result["partner_timeout"] == 0.0
    assert board.groups == {} and board.stats["released_open"] == 50


def test_pair_counters_include_the_pair_accuracy():
    infos = [
        {"partner_found": 1.0, "partner_timeout": 0.0, "pair_correct": 1.0},
        {"partner_found": 0.0, "partner_timeout": 1.0, "pair_correct": 0.0},
        {"partner_found": 1.0, "partner_timeout": 0.0, "pair_correct": 1.0},
        {},
    ]
    assert pair_counters(infos, prefix="training/") == {
        "training/patarm/partner_missing": 1.0,
        "training/patarm/partner_timeout": 1.0,
        "training/patarm/pair_accuracy": 2 / 3,
    }
    assert "patarm/pair_accuracy" not in pair_counters([{"partner_found": 1.0}], prefix="")
