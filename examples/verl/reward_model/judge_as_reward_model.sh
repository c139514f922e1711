#!/usr/bin/env bash
# Downstream RLHF in verl 0.9 with a trained PaTaRM judge as the reward model (paper: IFEval /
# InFoBench with instruction-following rubrics). verl serves the judge itself
# (reward.reward_model.*) and patarm.verl.reward_model.compute_score sends it chat-completion
# requests through verl's reward router, n judgements per rollout, mean-voted in the Rust core.
# Each dataset row needs the policy prompt in extra_info.prompt (and optionally extra_info.domain).
set -euo pipefail
JUDGE=${JUDGE:?set JUDGE to the trained judge checkpoint}
POLICY=${POLICY:?set POLICY to the policy model}

python3 -m verl.trainer.main_ppo \
  algorithm.adv_estimator=grpo \
  data.train_files="${TRAIN:?set TRAIN to the policy prompts parquet}" \
  data.val_files="${VAL:-$TRAIN}" \
  actor_rollout_ref.model.path="$POLICY" \
  actor_rollout_ref.rollout.n=8 \
  reward.reward_model.enable=True \
  reward.reward_model.model_path="$JUDGE" \
  reward.reward_model.rollout.name=vllm \
  reward.reward_model.rollout.tensor_model_parallel_size=1 \
  reward.custom_reward_function.path=pkg://patarm.verl.reward_model \
  reward.custom_reward_function.name=compute_score \
  +reward.custom_reward_function.reward_kwargs.n=8 \
  +reward.custom_reward_function.reward_kwargs.domain=instruction_following \
  "$@"
