#!/usr/bin/env bash
# Cold-start SFT of a PaTaRM judge with verl's SFT trainer (verl 0.9: verl.trainer.sft_trainer,
# config sft_trainer_engine), on the rows `patarm sft-data` writes. Not run in CI.
#
#   patarm sft-data pairs.jsonl -o data/sft.parquet --judge-url http://localhost:8000/v1 --model Qwen/Qwen2.5-72B-Instruct
#   bash examples/sft/run_verl_sft.sh Qwen/Qwen3-8B data/sft.parquet
#
# verl's MultiTurnSFTDataset reads the `messages` column and puts the loss on assistant turns
# only (the teacher judgement); the metadata columns (pair_id, side, ...) are ignored. One
# epoch as in the paper (METHOD section 7); then GRPO with the PAR reward (examples/verl/).
set -euo pipefail
MODEL=${1:-Qwen/Qwen3-8B}
TRAIN=${2:-data/sft.parquet}
NGPUS=${NGPUS:-8}

torchrun --standalone --nnodes=1 --nproc_per_node="$NGPUS" -m verl.trainer.sft_trainer \
    data.train_files="$TRAIN" \
    data.messages_key=messages \
    data.max_length=8192 \
    data.truncation=error \
    data.train_batch_size=64 \
    data.micro_batch_size_per_gpu=2 \
    model.path="$MODEL" \
    optim.lr=1e-5 \
    trainer.total_epochs=1 \
    trainer.n_gpus_per_node="$NGPUS" \
    trainer.project_name=patarm-sft \
    trainer.experiment_name="$(basename "$MODEL")-sft" \
    trainer.logger='[console]' \
    "${@:3}"
