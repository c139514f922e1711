"""Evaluation: a judge's accuracy on reward-model benchmarks (``patarm evaluate``).

- :mod:`patarm.workflow.evaluation.evaluate`: a benchmark judged live, and the report from its
  scores (every voting method and level).
- :mod:`patarm.workflow.evaluation.items`: RewardBench, RM-Bench, RewardBench 2 and JudgeBench items.
- :mod:`patarm.workflow.evaluation.judgements`: scores per response from saved judgements.
- :mod:`patarm.workflow.evaluation.metrics`: voting levels and the benchmarks' accuracies.
- :mod:`patarm.workflow.evaluation.rewardbench2`: RewardBench 2's best-of-4 and Ties scoring.
- :mod:`patarm.workflow.evaluation.judgebench`: JudgeBench's items and two-game scoring.
- :mod:`patarm.workflow.evaluation.bias`: the bias card (``--bias``).
- :mod:`patarm.workflow.evaluation.pairwise`: pairwise (A/B) evaluation in both orders.
- :mod:`patarm.workflow.evaluation.report`: :class:`~patarm.workflow.evaluation.report.EvaluationReport`
  and RewardBench's results files.
- :mod:`patarm.workflow.evaluation.render`: the report's tables (terminal, HTML) and its plot.
- :mod:`patarm.workflow.evaluation.benchmarks`: the published benchmarks by name (``datasets``).

This package imports none of them: each loads on use.
"""
