"""`patarm prepare` output read by verl 0.9's own RLHFDataset: the rows are what verl expects."""

from pathlib import Path

from frameworks import require

verl = require("verl")
require("torch")

DATA = Path(__file__).resolve().parents[1] / "data"


def test_rlhf_dataset_reads_prepared_rows(tmp_path):
    from omegaconf import OmegaConf
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast
    from verl.utils.dataset.rl_dataset import RLHFDataset

    from patarm.workflow.data import prepare

    out = tmp_path / "train.parquet"
    prepare(DATA / "pairs.jsonl", out, seed=0, show_progress=False)
    tok = Tokenizer(models.WordLevel({"<pad>": 0, "<unk>": 1}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", unk_token="<unk>")
    config = OmegaConf.create({"filter_overlong_prompts": False, "cache_dir": str(tmp_path / "cache")})
    dataset = RLHFDataset(data_files=[str(out)], tokenizer=tokenizer, config=config)
    assert len(dataset) == 12
    rows = [dataset[i] for i in range(len(dataset))]
    import pyarrow.parquet as pq

    stored = pq.read_table(out).to_pylist()
    for k in range(0, 12, 2):
        chosen, rejected = rows[k], rows[k + 1]
        assert chosen["extra_info"]["pair_id"] == rejected["extra_info"]["pair_id"]
        assert (chosen["reward_model"]["ground_truth"], rejected["reward_model"]["ground_truth"]) == (
            "chosen",
            "rejected",
        )
        assert chosen["index"] == k and rejected["index"] == k + 1
        assert list(chosen["raw_prompt"]) == stored[k]["prompt"]  # the judge prompt, as chat messages
        assert chosen["data_source"].startswith("patarm/")
