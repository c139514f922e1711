"""The verl 0.9 recipe's overrides compose against verl's shipped config and pass patarm's checks."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from frameworks import require

require("verl")

from verl_batches import compose_config  # noqa: E402

from patarm.verl import PairRewardManager  # noqa: E402
from patarm.verl.data import check_pair_batch_sizes  # noqa: E402
from patarm.verl.pair_worker import build_pair_manager  # noqa: E402
from patarm.verl.setup_checks import check_trainer_setup  # noqa: E402

RECIPE = Path(__file__).resolve().parents[2] / "examples" / "verl" / "run_patarm_grpo.sh"


def recipe_overrides(values: dict) -> list[str]:
    text = RECIPE.read_text()
    block = text[text.index("OVERRIDES=(") + len("OVERRIDES=(") : text.index("\n)\n")]
    out = []
    for line in block.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        line = re.sub(r"\$(\w+)", lambda m: values[m.group(1)], line)
        out.extend(shlex.split(line))
    return out


def test_recipe_composes_and_passes_patarm_checks(tokenizer, qwen_dir, tmp_path):
    from verl.trainer.ppo.reward import load_reward_manager

    overrides = recipe_overrides({"DATA": str(tmp_path), "MODEL": qwen_dir, "GPUS": "8"})
    assert any("agent_loop_manager_class=patarm.verl.agent_loop.PairAgentLoopManager" in o for o in overrides)
    config = compose_config(overrides)
    assert config.data.custom_cls.name == "PairShuffledDataset" and config.data.shuffle is False
    check_pair_batch_sizes(config.data, shuffled_by_verl=True)
    check_trainer_setup(config)
    manager = load_reward_manager(config, tokenizer, reward_router_address=None, reward_model_tokenizer=None)
    assert isinstance(manager, PairRewardManager)
    scorer, timeout = build_pair_manager(config, tokenizer)
    assert timeout == 1800.0 and scorer.options.think_in_prompt is False
