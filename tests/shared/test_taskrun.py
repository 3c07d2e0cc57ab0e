"""The task runner's own pieces: what each step run's summary line reports about the process."""

from __future__ import annotations

from baton.taskrun import peak_rss_mib


def test_the_peak_memory_a_summary_line_reports_is_the_kernel_s_high_water_mark(tmp_path):
    status = tmp_path / "status"
    status.write_text("Name:\tpython\nVmPeak:\t  900000 kB\nVmHWM:\t  153600 kB\nVmRSS:\t 99 kB\n")
    assert peak_rss_mib(str(status)) == 150.0
    status.write_text("Name:\tpython\n")  # a kernel without the field
    assert peak_rss_mib(str(status)) is None
    assert peak_rss_mib(str(tmp_path / "missing")) is None
