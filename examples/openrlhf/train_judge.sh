#!/usr/bin/env bash
# Train a PaTaRM judge with GRPO-style RL in OpenRLHF 0.11 and the true pair reward (PAR).
# Lines marked "patarm:" are what PaTaRM needs; the rest is an ordinary OpenRLHF GRPO run
# (sized for one 8-GPU node and an 8B judge: adjust freely).
#
#   patarm prepare pairs.jsonl -o data/openrlhf/train.jsonl --val-output data/openrlhf/val.jsonl \
#       --val-size 0.05 --format openrlhf
#   MODEL=Qwen/Qwen3-8B DATA=data/openrlhf bash examples/openrlhf/train_judge.sh
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=${DATA:-data/openrlhf}
N_PER_SIDE=${N_PER_SIDE:-4}              # judgements per response (the paper samples 8 per pair)

# patarm: per-side advantages computed by the executor (side_norm | side_centre | none), the
# PAR shape f (graded | constant | a number) and whether the chat template opens <think> itself.
export PATARM_ADVANTAGE=${PATARM_ADVANTAGE:-side_norm}
export PATARM_F=${PATARM_F:-graded}
export PATARM_THINK_IN_PROMPT=${PATARM_THINK_IN_PROMPT:-0}

python3 -m openrlhf.cli.train_ppo_ray \
  --actor.model_name_or_path "${MODEL:-Qwen/Qwen3-8B}" \
  --ref.num_nodes 1 --ref.num_gpus_per_node 8 \
  --actor.num_nodes 1 --actor.num_gpus_per_node 8 \
  --vllm.num_engines 4 --vllm.tensor_parallel_size 2 \
  --train.colocate_all --vllm.enable_sleep --ds.enable_sleep --vllm.gpu_memory_utilization 0.6 \
  `# patarm: one row per pair (patarm prepare --format openrlhf); OpenRLHF shuffles rows, so the` \
  `# two sides of a pair must live in one row. The executor reads the row's label, not the prompt.` \
  --data.prompt_dataset "$DATA/train.jsonl" \
  --data.input_key prompt \
  --data.label_key label \
  `# patarm: the agent executor that judges both sides and scores the pair (PAR, float32-safe).` \
  --train.agent_func_path "$HERE/agent_func.py" \
  `# patarm: 2n samples per pair row: the first n judge the chosen response, the last n the rejected.` \
  --rollout.n_samples_per_prompt $((2 * N_PER_SIDE)) \
  `# patarm: the executor already normalised each side (float64); dr_grpo then only centres.` \
  --algo.advantage.estimator dr_grpo \
  `# patarm: validation pairs, also 2n samples per row (OpenRLHF's pass@k eval metrics read the` \
  `# executor's advantages, so judge accuracy is measured with patarm evaluate instead).` \
  --eval.dataset "$DATA/val.jsonl" --eval.n_samples_per_prompt $((2 * N_PER_SIDE)) --eval.steps 50 \
  --rollout.batch_size 64 --rollout.micro_batch_size 8 \
  --train.batch_size 512 --train.micro_batch_size 4 \
  --data.max_len 8192 --rollout.max_new_tokens 4096 \
  --rollout.temperature 1.0 --train.max_epochs 1 --train.num_episodes 2 \
  --algo.kl.use_loss --algo.kl.estimator k3 --algo.kl.init_coef 0.001 \
  --actor.adam.lr 1e-6 --ds.zero_stage 3 --ds.param_dtype bf16 \
  --actor.gradient_checkpointing_enable \
  --ckpt.save_steps 100 --ckpt.path "${CKPT:-./ckpt/patarm-judge}" \
  "$@"
