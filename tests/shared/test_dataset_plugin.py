"""A dataset plugin, exactly as docs/datasets.md's "Adding a dataset" writes it, registered through the
`baton.datasets` entry point and carried by the unchanged steps from landing to warehouse."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from lakes import Lake, warehouse_rows

from baton import datasets
from baton.dataset import Dataset
from baton_cli.accounting import ledger

DATASETS_DOC = Path(__file__).resolve().parents[2] / "docs" / "datasets.md"
DAY = date(2024, 5, 1)
LANDING = (
    "order_id,shop,amount,ordered_at\n"
    "1,Berlin,10.5,2024-05-01T08:00:00Z\n"
    "2,Paris,0,2024-05-01T09:00:00Z\n"
    "3,berlin,NA,2024-05-01T10:00:00Z\n"
    + "".join(f"{i},Rome,{i}.0,2024-05-01T11:{i % 60:02d}:00Z\n" for i in range(4, 40))
)


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Install the documented example as a distribution with its entry point."""
    doc = DATASETS_DOC.read_text().split("## Adding a dataset", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", doc, re.S)[1]
    site = tmp_path / "site"
    (site / "acme_orders-0.1.dist-info").mkdir(parents=True)
    (site / "acme_orders.py").write_text(code)
    (site / "acme_orders-0.1.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: acme-orders\nVersion: 0.1\n"
    )
    toml = re.search(r"```toml\n(.*?)```", doc, re.S)[1]
    entry = toml.splitlines()[1]  # orders = "acme_orders:DATASET"
    (site / "acme_orders-0.1.dist-info" / "entry_points.txt").write_text(
        "[baton.datasets]\n" + entry.replace('"', "") + "\n"
    )
    monkeypatch.syspath_prepend(str(site))


def test_the_documented_plugin_registers_by_name(plugin):
    found = datasets.get("orders")
    assert isinstance(found, Dataset)
    assert set(datasets.registry()) == {"flights", "weather", "flights_api", "flights_db", "orders"}


def test_the_documented_plugin_runs_through_the_unchanged_steps(plugin, tmp_path):
    lake = Lake(tmp_path / "home")
    (lake.root / "landing" / "orders").mkdir(parents=True)
    (lake.root / "landing" / "orders" / f"{DAY}.csv").write_text(LANDING)
    assert lake.chain(DAY, "orders") == [0, 0, 0, 0]
    rows = warehouse_rows(lake, "orders")
    assert rows.height == 37
    assert set(rows["shop"]) == {"berlin", "rome"}
    validated = lake.manifest("validate", DAY, "orders")
    assert validated.quarantine_reasons == {"amount_positive": 1, "not_null:amount_eur": 1}
    (row,) = ledger(lake.storage, "orders", [DAY])
    assert (row.landed, row.loaded, row.quarantined, row.balanced) == (39, 37, 2, True)
