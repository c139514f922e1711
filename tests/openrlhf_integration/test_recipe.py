"""examples/openrlhf/train_judge.sh against OpenRLHF 0.11.2's own command line: the recipe's
arguments go through train_ppo_ray.py's parser and start-up checks (its `__main__` block, up
to the point where it would start Ray), and the agent file it names loads through
vllm_engine's `_load_agent_executor` with the environment the recipe exports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from frameworks import require

openrlhf = require("openrlhf")

ROOT = Path(__file__).resolve().parents[2]
RECIPE = ROOT / "examples" / "openrlhf" / "train_judge.sh"


def recipe_call(tmp_path, **env):
    """The python3 command line and PATARM_* environment the recipe runs (python3 is a stub that records them)."""
    stub = tmp_path / "bin" / "python3"
    stub.parent.mkdir()
    stub.write_text('#!/bin/sh\nprintf "%s\\0" "$@" > "$RECORD_ARGS"\nenv | grep "^PATARM_" > "$RECORD_ENV"\n')
    stub.chmod(0o755)
    run_env = dict(
        os.environ,
        PATH=f"{stub.parent}{os.pathsep}{os.environ['PATH']}",
        MODEL="/models/judge",
        DATA="/data/openrlhf",
        RECORD_ARGS=str(tmp_path / "args"),
        RECORD_ENV=str(tmp_path / "env"),
        **env,
    )
    subprocess.run(["bash", str(RECIPE)], check=True, env=run_env)
    argv = (tmp_path / "args").read_text().split("\0")[:-1]
    exported = dict(line.split("=", 1) for line in (tmp_path / "env").read_text().splitlines())
    return argv, exported


def openrlhf_args(argv):
    """train_ppo_ray.py's own parser and checks, run on argv (its __main__ block minus the launch)."""
    source = (Path(openrlhf.__file__).parent / "cli" / "train_ppo_ray.py").read_text()
    block = source[source.index("    parser = argparse.ArgumentParser()") : source.index("    if args.use_ms:")]
    # The module's light imports; ray and the trainer classes are only needed to launch.
    code = "import argparse\nimport os\nfrom datetime import datetime\ndef main():\n" + block + "    return args\n"
    namespace = {}
    exec(compile(code, "train_ppo_ray.py (main block)", "exec"), namespace)
    saved = sys.argv
    sys.argv = ["train_ppo_ray.py", *argv]
    try:
        return namespace["main"]()
    finally:
        sys.argv = saved


def test_recipe_parses_with_openrlhfs_cli_and_sets_the_pair_route(tmp_path):
    argv, exported = recipe_call(tmp_path)
    assert argv[:2] == ["-m", "openrlhf.cli.train_ppo_ray"]
    args = openrlhf_args(argv[2:])
    assert args.train.agent_func_path == str(ROOT / "examples" / "openrlhf" / "agent_func.py")
    assert args.reward.remote_url == ["agent"]  # OpenRLHF's marker for an agent executor
    assert args.rollout.n_samples_per_prompt == 8 and args.eval.n_samples_per_prompt == 8
    assert args.algo.advantage.estimator == "dr_grpo"
    assert (args.data.input_key, args.data.label_key) == ("prompt", "label")
    assert args.data.prompt_dataset == "/data/openrlhf/train.jsonl" and args.eval.dataset == "/data/openrlhf/val.jsonl"
    settings = {key: exported.get(key) for key in ("PATARM_ADVANTAGE", "PATARM_F", "PATARM_THINK_IN_PROMPT")}
    assert settings == {"PATARM_ADVANTAGE": "side_norm", "PATARM_F": "graded", "PATARM_THINK_IN_PROMPT": "0"}


def test_the_recipes_agent_file_loads_through_openrlhfs_loader(tmp_path, monkeypatch):
    from openrlhf.trainer.ray.vllm_engine import _load_agent_executor

    argv, exported = recipe_call(tmp_path, N_PER_SIDE="2", PATARM_ADVANTAGE="side_centre", PATARM_F="1.3")
    args = openrlhf_args(argv[2:])
    assert args.rollout.n_samples_per_prompt == 4
    for key in ("PATARM_ADVANTAGE", "PATARM_F", "PATARM_THINK_IN_PROMPT"):
        monkeypatch.setenv(key, exported[key])
    executor = _load_agent_executor(args.train.agent_func_path)
    assert repr(executor) == "AgentExecutor(advantage='side_centre', f=Constant(1.3))"
