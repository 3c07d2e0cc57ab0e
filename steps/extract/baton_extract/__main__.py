"""Container entrypoint: `python -m baton_extract run --date YYYY-MM-DD` (plain, rich-free process)."""

from baton.entry import run_step

run_step("baton_extract.cli", prog_name="baton_extract")
