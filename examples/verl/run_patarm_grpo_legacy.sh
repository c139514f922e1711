#!/usr/bin/env bash
# PaTaRM judge training with GRPO on verl's legacy batch reward API (verl 0.7.0; 0.6.x: see the
# notes below). The reward manager sees the whole batch, so it finds each rollout's pair by id.
#
#   pip install "patarm[verl]" "verl==0.7.0" vllm
#   patarm prepare pairs.jsonl -o "$DATA/train.parquet" --val-output "$DATA/val.parquet" --val-size 0.05
#   MODEL=Qwen/Qwen3-8B DATA=data/patarm bash examples/verl/run_patarm_grpo_legacy.sh
#
# verl 0.6.x: drop reward_model.use_reward_loop and the reward_manager.* lines, and use
#   export VERL_USE_EXTERNAL_MODULES=patarm.verl   (imports patarm.verl, registering "patarm")
#   reward_model.reward_manager=patarm
set -euo pipefail
MODEL=${MODEL:-Qwen/Qwen3-8B}
DATA=${DATA:-data/patarm}
GPUS=${GPUS:-8}

OVERRIDES=(
  algorithm.adv_estimator=grpo
  data.train_files="$DATA/train.parquet"
  data.val_files="$DATA/val.parquet"
  data.max_prompt_length=4096
  data.max_response_length=4096
  # patarm: even, so no batch splits a pair (checked at start-up)
  data.train_batch_size=128
  # patarm: the pair-preserving sampler (random pair order, reshuffled each epoch) ...
  data.sampler.class_path=pkg://patarm.verl.data
  data.sampler.class_name=PairSampler
  # patarm: ... which verl only accepts with in-process data loading
  data.dataloader_num_workers=0
  # patarm: seed of the pair order (default: data.seed)
  +data.pair_seed=1
  trainer.total_epochs=2
  actor_rollout_ref.model.path="$MODEL"
  actor_rollout_ref.actor.optim.lr=1e-6
  actor_rollout_ref.actor.ppo_mini_batch_size=64
  actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu=2
  actor_rollout_ref.actor.use_kl_loss=True
  actor_rollout_ref.actor.kl_loss_coef=0.001
  actor_rollout_ref.rollout.name=vllm
  actor_rollout_ref.rollout.n=8
  actor_rollout_ref.rollout.tensor_model_parallel_size=2
  actor_rollout_ref.rollout.gpu_memory_utilization=0.6
  actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu=4
  actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu=4
  # patarm: verl 0.7.0 computes rewards on whole batches only with the reward loop off
  reward_model.use_reward_loop=False
  # patarm: the batch reward manager, loaded by module path
  reward_manager.source=importlib
  reward_manager.module.path=pkg://patarm.verl
  reward_manager.name=PairRewardManager
  # patarm: f of METHOD 4 (graded | constant | a number) and the think-in-prompt option
  +reward_model.reward_kwargs.f=graded
  +reward_model.reward_kwargs.think_in_prompt=False
  trainer.n_gpus_per_node="$GPUS"
  trainer.nnodes=1
  trainer.logger='["console"]'
  trainer.project_name=patarm
  trainer.experiment_name=patarm-grpo-legacy
  trainer.test_freq=20
  trainer.save_freq=100
)

python3 -m verl.trainer.main_ppo "${OVERRIDES[@]}" "$@"
