"""OpenRLHF custom reward: a trained PaTaRM judge scores each policy response.

    export PATARM_JUDGE_URL=http://judge-host:8000/v1 PATARM_JUDGE_MODEL=patarm-judge PATARM_JUDGE_N=8
    python3 -m openrlhf.cli.train_ppo_ray ... --reward.remote_url examples/openrlhf/reward_func.py

See patarm/openrlhf.py for every setting. OpenRLHF itself is never imported.
"""

from patarm.openrlhf import reward_func  # noqa: F401  (OpenRLHF looks up `reward_func` in this file)
