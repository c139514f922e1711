#!/usr/bin/env bash
# Downstream GRPO in OpenRLHF (>= 0.11) with a trained PaTaRM judge as the reward model, as in
# the paper's IFEval / InFoBench experiments (instruction-following rubrics). Serve the judge
# first with any OpenAI-compatible server, e.g.:
#   vllm serve /ckpt/patarm-judge --served-model-name patarm-judge --port 8000
set -euo pipefail
export PATARM_JUDGE_URL=${PATARM_JUDGE_URL:-http://127.0.0.1:8000/v1}
export PATARM_JUDGE_MODEL=${PATARM_JUDGE_MODEL:-patarm-judge}
export PATARM_JUDGE_N=${PATARM_JUDGE_N:-8}
export PATARM_JUDGE_DOMAIN=${PATARM_JUDGE_DOMAIN:-instruction_following}
HERE=$(cd "$(dirname "$0")" && pwd)

python3 -m openrlhf.cli.train_ppo_ray \
  --actor.model_name_or_path "${POLICY:-Qwen/Qwen3-8B}" \
  --reward.remote_url "$HERE/reward_func.py" \
  --data.prompt_dataset "${PROMPTS:?set PROMPTS to a prompt dataset}" \
  --data.input_key prompt --data.label_key label --data.apply_chat_template \
  --algo.advantage.estimator group_norm \
  "$@"
