"""patarm.verl.reward_model.compute_score inside verl 0.9's real reward loop: loaded by verl's own
get_custom_reward_fn (pkg:// path + reward_kwargs), called by NaiveRewardManager.run_single
with reward_router_address pointing at a chat-completions server on 127.0.0.1."""

import asyncio

import numpy as np
import pytest

from chat_server import ChatServer, judgement
from frameworks import require

verl = require("verl")
torch = require("torch")


def tiny_tokenizer():
    """A word-level tokenizer built locally (no download)."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = ["<pad>", "<unk>", "Die", "Katze", "schläft", "Hund"]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", unk_token="<unk>")


def one_row(tokenizer, prompt_ids, response_text, extra_info, pad_to=6):
    from verl import DataProto

    response = tokenizer(response_text, add_special_tokens=False)["input_ids"]
    responses = torch.tensor([response + [0] * (pad_to - len(response))])
    prompts = torch.tensor([prompt_ids])
    mask = torch.tensor([[1] * len(prompt_ids) + [1] * len(response) + [0] * (pad_to - len(response))])
    return DataProto.from_dict(
        tensors={"prompts": prompts, "responses": responses, "attention_mask": mask},
        non_tensors={
            "data_source": np.array(["ifeval"], dtype=object),
            "reward_model": np.array([{"style": "model", "ground_truth": ""}], dtype=object),
            "extra_info": np.array([extra_info], dtype=object),
        },
    )


def test_reward_loop_scores_rollouts_with_the_served_judge():
    from omegaconf import OmegaConf
    from verl.experimental.reward_loop.reward_manager.naive import NaiveRewardManager
    from verl.trainer.ppo.reward import get_custom_reward_fn

    import patarm

    config = OmegaConf.create(
        {
            "reward": {
                "custom_reward_function": {
                    "path": "pkg://patarm.verl.reward_model",
                    "name": "compute_score",
                    "reward_kwargs": {"n": 2, "model": "judge-under-test", "domain": "chat"},
                }
            }
        }
    )
    compute_score = get_custom_reward_fn(config)
    tokenizer = tiny_tokenizer()
    rules = [
        {"match": "Die Katze schläft", "judgements": [judgement(9), judgement(8)]},
        {"match": "Die Hund schläft", "judgements": [judgement(3), "<answer>broken</answer>"]},
    ]
    with ChatServer(rules) as server:

        async def reward_worker():
            manager = NaiveRewardManager(
                config=config,
                tokenizer=tokenizer,
                compute_score=compute_score,
                reward_router_address=server.address,
                reward_model_tokenizer=None,
            )
            assert manager.is_async_reward_score  # verl awaits it instead of using a thread
            rows = [
                one_row(tokenizer, [1, 1], text, {"prompt": "Translate: the cat sleeps"})
                for text in ("Die Katze schläft", "Die Hund schläft")
            ]
            return await asyncio.gather(*(manager.run_single(row) for row in rows))

        good, bad = asyncio.run(reward_worker())
        contents = {r["messages"][0]["content"] for r in server.requests}
        models = {r["model"] for r in server.requests}
    assert good["reward_score"] == pytest.approx(8.5) and bad["reward_score"] == pytest.approx(3.0)
    assert set(good["reward_extra_info"]) == set(bad["reward_extra_info"])  # same keys for every sample
    assert bad["reward_extra_info"]["judge_valid"] == 1.0
    assert models == {"judge-under-test"}
    assert patarm.build_prompt("Translate: the cat sleeps", "Die Katze schläft", domain="chat") in contents
