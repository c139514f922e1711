#!/usr/bin/env bash
# PaTaRM judge training with GRPO on verl 0.9.x (verl's reward loop; both of its trainers).
#
#   pip install "patarm[verl]" vllm       # on the GPU nodes (patarm must be importable by Ray workers)
#   patarm prepare pairs.jsonl -o "$DATA/train.parquet" --val-output "$DATA/val.parquet" --val-size 0.05
#   MODEL=Qwen/Qwen3-8B DATA=data/patarm bash examples/verl/run_patarm_grpo.sh [extra overrides...]
#
# Every patarm-specific key is marked "patarm:". The rest is a plain verl GRPO setup; size it to
# your cluster. The method (docs/method.md) trains RL for 2 epochs with 4096-token responses after SFT.
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
  data.filter_overlong_prompts=True
  # patarm: even (whole pairs); the agent-loop manager gives each worker whole pairs itself
  data.train_batch_size=128
  # patarm: the dataset serves whole pairs in a random pair order, reshuffled per epoch ...
  data.custom_cls.path=pkg://patarm.verl.data
  data.custom_cls.name=PairShuffledDataset
  # patarm: ... so verl must read it in order (verl's shuffle would split pairs)
  data.shuffle=False
  # patarm: 2 reshuffled pair epochs inside the dataset, hence 1 verl epoch
  +data.pair_epochs=2
  trainer.total_epochs=1
  # patarm: seed of the pair order (default: data.seed)
  +data.pair_seed=1
  # patarm: validation batches hold whole pairs (one batch by default; never shuffled rows)
  data.validation_shuffle=False
  actor_rollout_ref.model.path="$MODEL"
  actor_rollout_ref.actor.optim.lr=1e-6
  actor_rollout_ref.actor.ppo_mini_batch_size=64
  actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu=2
  actor_rollout_ref.actor.use_kl_loss=True
  actor_rollout_ref.actor.kl_loss_coef=0.001
  actor_rollout_ref.rollout.name=vllm
  actor_rollout_ref.rollout.n=8
  # patarm: verl validates greedily (val_kwargs.do_sample=False): one judgement per prompt
  actor_rollout_ref.rollout.val_kwargs.n=1
  actor_rollout_ref.rollout.tensor_model_parallel_size=2
  actor_rollout_ref.rollout.gpu_memory_utilization=0.6
  actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu=4
  actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu=4
  # patarm: the agent-loop manager that gives each rollout its pair's PAR reward (train and val)
  +actor_rollout_ref.rollout.agent.agent_loop_manager_class=patarm.verl.agent_loop.PairAgentLoopManager
  actor_rollout_ref.rollout.agent.num_workers=8
  # patarm: verl's sync replay buffer plus the per-step pair counters in the training metrics
  trainer.v1.sampler.custom_sampler.path=pkg://patarm.verl.replay_buffer
  trainer.v1.sampler.custom_sampler.name=PairReplayBuffer
  # patarm: the reward manager (reward loop interface), loaded by module path
  reward.reward_manager.source=importlib
  reward.reward_manager.module.path=pkg://patarm.verl
  reward.reward_manager.name=PairRewardManager
  # patarm: rewards are computed in the agent-loop workers; one reward worker is enough
  reward.num_workers=1
  # patarm: f of METHOD 4: graded (thresholds/values) | constant (constant=1.3) | a number
  +reward.reward_kwargs.f=graded
  # patarm: seconds a finished rollout waits for the rest of its pair before the fallback
  +reward.reward_kwargs.pair_timeout_s=1800
  # patarm: set True when the chat template opens <think> in the prompt (METHOD 3)
  +reward.reward_kwargs.think_in_prompt=False
  trainer.n_gpus_per_node="$GPUS"
  trainer.nnodes=1
  trainer.logger='["console"]'
  trainer.project_name=patarm
  trainer.experiment_name=patarm-grpo
  trainer.test_freq=20
  trainer.save_freq=100
)

python3 -m verl.trainer.main_ppo "${OVERRIDES[@]}" "$@"
