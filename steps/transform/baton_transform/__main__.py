"""Container entrypoint: `python -m baton_transform run --date YYYY-MM-DD` (plain, rich-free process)."""

from baton.entry import run_step

run_step("baton_transform.cli", prog_name="baton_transform")
