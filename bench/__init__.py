"""Provides the benchmarks of predeploy: `python -m bench [NAME...]` runs them and prints ratios.

No benchmark is a test and none asserts on time: the figures are compared, in one invocation,
against what a deployer would otherwise use, because this machine is shared and noisy and only
ratios mean much. Each benchmark is a module with ``NAME``, ``TITLE`` and ``run(ctx) -> Section``.
"""
