"""Dataset definitions are checked when declared; the registry finds them by name."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from datetime import date

import polars as pl
import pytest

from baton import datasets
from baton.contract import Column, Contract
from baton.dataset import CsvSource, Dataset, Destination
from baton.errors import ConfigError
from baton.lake import LANDING

CONTRACT = Contract(
    columns=(
        Column("day", pl.Date(), nullable=False),
        Column("shop", pl.String(), nullable=False),
        Column("amount", pl.Float64()),
    )
)


def _dataset(**changes: object) -> Dataset:
    fields: dict[str, object] = {
        "name": "orders",
        "description": "orders per day",
        "source": CsvSource(schema={"day": pl.Date(), "shop": pl.String(), "amount": pl.Float64()}),
        "transform": lambda raw, ctx: raw,
        "key": ("day", "shop"),
        "contract": CONTRACT,
        "destination": Destination("orders", "day", clustering=("shop",)),
    }
    return Dataset(**{**fields, **changes})


def test_a_well_formed_dataset_is_accepted():
    assert _dataset().name == "orders"


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"name": "Orders"}, "dataset name 'Orders' must be lower snake case"),
        ({"key": ("day", "till")}, "key names unknown column(s) ['till']"),
        ({"destination": Destination("orders", "amount")}, "must be a non-nullable Date"),
        ({"destination": Destination("orders", "shop")}, "must be a non-nullable Date"),
        ({"destination": Destination("orders", "nope")}, "names unknown column(s) ['nope']"),
        ({"destination": Destination("Orders!", "day")}, "table name 'Orders!'"),
        (
            {"destination": Destination("orders", "day", clustering=("shop",) * 5)},
            "clusters on at most 4 columns",
        ),
        ({"quarantine_tolerance": 1.5}, "quarantine_tolerance must be within 0..1"),
    ],
)
def test_a_malformed_dataset_fails_when_declared_naming_the_problem(changes, fragment):
    with pytest.raises(ValueError) as caught:
        _dataset(**changes)
    assert fragment in str(caught.value)


def test_a_csv_source_finds_one_landing_file_per_date():
    source = _dataset().source
    assert source.landing_keys("orders", date(2013, 1, 2)) == [f"{LANDING}/orders/2013-01-02.csv"]
    custom = dataclasses.replace(source, path="shop-exports/{date}/{dataset}.csv")
    assert custom.landing_keys("orders", date(2013, 1, 2)) == [
        f"{LANDING}/shop-exports/2013-01-02/orders.csv"
    ]


def test_the_registry_holds_the_builtin_datasets():
    assert {"flights", "weather"} <= set(datasets.registry())
    assert datasets.get("weather").destination.table == "weather"


def test_an_unknown_dataset_is_a_config_error_listing_the_known_ones():
    with pytest.raises(ConfigError) as caught:
        datasets.get("nope")
    assert (
        caught.value.message
        == "unknown dataset 'nope'; known: flights, weather, flights_api, flights_db"
    )
    assert caught.value.reason == "unknown_dataset"


def test_the_registry_names_each_built_in_module_by_its_datasets_own_name():
    from baton.datasets import canary

    assert {name: d.name for name, d in datasets.builtin().items()} == {
        name: name for name in datasets.BUILTIN_MODULES
    }
    assert set(datasets.RESERVED_MODULES) == {canary.NAME}
    assert datasets.get(datasets.DEFAULT_DATASET).name == datasets.DEFAULT_DATASET


def test_asking_for_one_dataset_imports_no_other_built_in_dataset():
    code = (
        "import json, sys; from baton import datasets; datasets.get('weather'); "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('baton.datasets.'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == ["baton.datasets.nyc_reference", "baton.datasets.weather"]
