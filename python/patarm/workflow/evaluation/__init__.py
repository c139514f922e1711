"""Evaluation: a judge's accuracy on reward-model benchmarks (``patarm evaluate``).

- :mod:`patarm.workflow.evaluation.evaluate`: RewardBench, RM-Bench and RewardBench 2 items,
  scores from saved judgements or a live judge, voting levels, the report and its plot.
- :mod:`patarm.workflow.evaluation.rewardbench2`: RewardBench 2's best-of-4 and Ties scoring.
- :mod:`patarm.workflow.evaluation.pairwise`: pairwise (A/B) evaluation in both orders.
- :mod:`patarm.workflow.evaluation.report`: :class:`~patarm.workflow.evaluation.report.EvaluationReport`
  and RewardBench's results files.
- :mod:`patarm.workflow.evaluation.benchmarks`: the published benchmarks by name (``datasets``).

This package imports none of them: each loads on use.
"""
