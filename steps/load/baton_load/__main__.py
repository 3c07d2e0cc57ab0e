"""Container entrypoint: `python -m baton_load run --date YYYY-MM-DD` (plain, rich-free process)."""

from baton.entry import run_step

run_step("baton_load.cli", prog_name="baton_load")
