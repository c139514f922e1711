"""Layer 2 of patarm, the workflow: the steps around training and using a PaTaRM judge.

- ``patarm.workflow.data``: judge training data from preference pairs (``patarm prepare``),
  rollout filtering (``patarm filter``) and SFT data from a teacher judge (``patarm sft-data``).
- ``patarm.workflow.cli`` and ``patarm.workflow.commands``: the ``patarm`` command line, one
  module per subcommand.

Layer 1, the core API (parsing, rewards, prompts, sampling, voting), is the top level of
``patarm``; layer 3, the framework integrations, is ``patarm.verl``, ``patarm.trl`` and
``patarm.openrlhf``. The workflow imports the core API, never an integration. Nothing here is
imported by ``import patarm``, and this package imports none of its parts: each loads on use.
"""
