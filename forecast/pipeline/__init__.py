"""Orchestration: the scenario specification, one run, the probabilistic run, counties, many units
at once, comparisons and backtests."""
