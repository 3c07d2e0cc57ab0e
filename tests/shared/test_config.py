"""Settings: built from BATON_* variables and CLI overrides; bad values name the variable."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest

from baton import typed_record
from baton.config import load_settings
from baton.errors import ConfigError, ExitCode


def test_defaults_put_lake_and_warehouse_under_baton_home():
    settings = load_settings(environ={})
    home = Path(".baton").resolve()
    assert settings.home == home
    assert settings.lake_root == str(home / "lake")
    assert settings.duckdb_file == home / "warehouse.duckdb"
    assert settings.warehouse == "duckdb"


def test_a_relative_home_is_made_absolute_once_so_records_do_not_depend_on_the_cwd(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    assert load_settings(environ={"BATON_HOME": "state"}).home == tmp_path / "state"


def test_environment_variables_with_the_baton_prefix_configure_settings():
    settings = load_settings(
        environ={
            "BATON_HOME": "/srv/baton",
            "BATON_LAKE": "gs://bucket/prefix",
            "BATON_WAREHOUSE": "bigquery",
            "BATON_BQ_PROJECT": "proj",
            "BATON_EXECUTION_ID": "exec-1",
            "OTHER": "ignored",
        }
    )
    assert settings.lake_root == "gs://bucket/prefix"
    assert settings.warehouse == "bigquery"
    assert settings.bq_project == "proj"
    assert settings.execution_id == "exec-1"
    assert settings.duckdb_file == Path("/srv/baton/warehouse.duckdb")


def test_cli_overrides_win_over_the_environment_and_none_means_not_given():
    settings = load_settings(
        {"log_level": "debug", "warehouse": None}, {"BATON_LOG_LEVEL": "error"}
    )
    assert settings.log_level == "debug"
    assert settings.warehouse == "duckdb"


def test_batched_dates_are_a_json_list():
    settings = load_settings(environ={"BATON_DATES": '["2013-01-02", "2013-01-01"]'})
    assert settings.dates == [date(2013, 1, 2), date(2013, 1, 1)]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("BATON_WAREHOUSE", "snowflake"),
        ("BATON_QUARANTINE_TOLERANCE", "1.5"),
        ("BATON_QUARANTINE_TOLERANCE", "lots"),
        ("BATON_DATES", "2013-01-01"),
        ("BATON_DATES", '["2013-02-30"]'),
        ("BATON_LOG_LEVEL", "chatty"),
    ],
)
def test_a_bad_value_is_a_config_error_naming_the_variable(variable, value):
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={variable: value})
    assert variable in caught.value.message
    assert caught.value.exit_code == ExitCode.CONFIG
    assert caught.value.reason == "invalid_setting"


def test_the_process_environment_is_read_only_when_no_mapping_is_given(monkeypatch):
    monkeypatch.setenv("BATON_EXECUTION_ID", "from-process")
    assert load_settings().execution_id == "from-process"
    assert load_settings(environ={}).execution_id == "local"


def test_settings_are_frozen_and_a_changed_copy_is_checked_again():
    settings = load_settings(environ={})
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.warehouse = "bigquery"  # type: ignore[misc]
    assert dataclasses.replace(settings, twin_iam="enforce").twin_iam == "enforce"
    with pytest.raises(typed_record.RecordError, match="twin_iam"):
        dataclasses.replace(settings, twin_iam="sometimes")  # type: ignore[arg-type]


def test_a_bad_item_of_the_batched_dates_is_named_by_its_position():
    with pytest.raises(ConfigError, match=r"BATON_DATES \(item 1\)"):
        load_settings(environ={"BATON_DATES": '["2013-01-02", "2013-13-01"]'})
