"""A step container that fails its first job execution, standing in for an infrastructure
failure: every task attempt of the first execution exits 75 (EX_TEMPFAIL) before doing any work;
later executions run the real step. Usage: python flaky_job.py <module> <args...>, with env
FLAKY_MARKER naming a file that remembers the first execution."""

from __future__ import annotations

import os
import runpy
import sys

marker, execution = os.environ["FLAKY_MARKER"], os.environ["CLOUD_RUN_EXECUTION"]
if not os.path.exists(marker):
    with open(marker, "w") as fh:
        fh.write(execution)
with open(marker) as fh:
    first = fh.read()
if execution == first:
    sys.exit(75)
module = sys.argv[1]
sys.argv = [module, *sys.argv[2:]]
runpy.run_module(module, run_name="__main__", alter_sys=True)
