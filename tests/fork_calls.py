"""Every batch entry point of patarm, called as a fork-safety test calls them: from a thread of
a parent that forks, and again in the forked children (tests/test_fork_safety.py).

`call_every_entry_point(num_threads)` returns a digest of the results, so a child can check that
it computed what its parent did, not only that it did not hang."""

import numpy as np

import patarm
from patarm import _core

HEAD = "<think>t</think><generate_rubrics>r</generate_rubrics><eval>e</eval><answer>"
TEXTS = [HEAD + str(i % 10) + "</answer>" for i in range(64)]
PAIR_IDS = [i // 2 for i in range(64)]
SIDES = ["rejected", "chosen"] * 32  # the chosen side scores higher: rewards are not all 0
# Token ids that decode to TEXTS[0]..TEXTS[3] with a one-byte-per-token table.
PIECES = [bytes([b]) for b in range(256)]
ENCODED = [list(text.encode()) for text in TEXTS[:4]]
WIDTH = max(len(ids) for ids in ENCODED)
IDS = np.array([ids + [0] * (WIDTH - len(ids)) for ids in ENCODED], dtype=np.int64)
LENGTHS = np.array([len(ids) for ids in ENCODED], dtype=np.int64)
VOTES = np.arange(24, dtype=np.float64).reshape(6, 4) % 7


def call_every_entry_point(num_threads: int) -> tuple:
    """One call of each batch entry point (scoring, decoding, prompts, voting, the sampler)."""
    scores = patarm.score_batch(TEXTS, PAIR_IDS, SIDES, num_threads=num_threads)
    parsed = patarm.parse_judgements(TEXTS, num_threads=num_threads)
    decoder = _core.TokenDecoder.from_pieces(PIECES, [])
    decoded = _core.decode_and_score(
        decoder, IDS, LENGTHS, [0, 0, 1, 1], ["rejected", "chosen"] * 2, None, num_threads=num_threads
    )
    prompts = patarm.build_prompts(["q"] * 8, ["r"] * 8, ["chat", "math"] * 4, num_threads=num_threads)
    means = patarm.mean_vote(VOTES, num_threads=num_threads)
    majority = patarm.majority_vote(VOTES, VOTES[::-1], num_threads=num_threads)
    order = patarm.pair_permutation(64, seed=7, epoch=1)
    sampled = list(patarm.PairRandomSampler(range(16), seed=3))
    return (
        scores["reward"].tolist(),
        parsed["score"].tolist(),
        decoded["score"].tolist(),
        decoded["reward"].tolist(),
        [len(p) for p in prompts],
        means.tolist(),
        majority.chosen_votes.tolist(),
        order.tolist(),
        sampled,
    )
