"""Layer 2 of patarm, the workflow: the steps around training and using a PaTaRM judge.

- :mod:`patarm.workflow.data`: judge-training rows from preference pairs (``patarm prepare``),
  the RL / SFT rollout filters (``patarm filter``) and SFT data from a teacher judge
  (``patarm sft-data``).
- :mod:`patarm.workflow.evaluation`: a judge's accuracy on RewardBench, RM-Bench and
  RewardBench 2, pointwise or pairwise (``patarm evaluate``), its report and the published
  benchmarks.
- :mod:`patarm.workflow.judge`: the judge client (:class:`~patarm.workflow.judge.client.Judge`,
  also ``patarm.Judge``), its crash-safe judgements log, the pairwise judge, and the judge
  settings the integrations share.
- :mod:`patarm.workflow.cli` and ``patarm.workflow.commands``: the ``patarm`` command line, one
  module per subcommand.

Layer 1, the core API (parsing, rewards, prompts, sampling, voting), is the top level of
``patarm``; layer 3, the framework integrations, is ``patarm.verl``, ``patarm.trl`` and
``patarm.openrlhf``. The workflow imports the core API, never an integration. ``import patarm``
imports none of it, and this package imports none of its parts: each loads on use.
"""
