"""Xiangyin (乡音): configuration and the command line that ties the packages together."""

import os

# The e5 embedder, CTranslate2 and torch use OpenMP, whose idle threads spin by default. On a small
# server where requests, workers and models share two cores, spinning threads starve the thread doing
# real work: one query embedding took ~4 s instead of ~75 ms (benchmarks/server.py). OpenMP reads this
# once, when its runtime loads, so it is set as early as anything of ours is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
