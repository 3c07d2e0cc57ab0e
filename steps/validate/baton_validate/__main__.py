"""Container entrypoint: `python -m baton_validate run --date YYYY-MM-DD` (plain, rich-free process)."""

from baton.entry import run_step

run_step("baton_validate.cli", prog_name="baton_validate")
