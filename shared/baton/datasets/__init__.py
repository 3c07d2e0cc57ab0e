"""The dataset registry: baton's built-in datasets plus any installed plugin.

A plugin is a package exposing a `Dataset` through the `baton.datasets` entry-point group,
e.g. `[project.entry-points."baton.datasets"] orders = "acme_orders:DATASET"`.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from baton.dataset import Dataset
from baton.datasets import canary, flights, flights_api, flights_db, weather
from baton.errors import ConfigError
from baton.sources.secret import Secret

ENTRY_POINT_GROUP = "baton.datasets"
BUILTIN = {
    d.name: d for d in (flights.DATASET, weather.DATASET, flights_api.DATASET, flights_db.DATASET)
}
RESERVED = {canary.DATASET.name: canary.DATASET}
"""Datasets baton runs for itself (`baton doctor --canary`): resolvable by name, so the step
containers run them, but never in `registry()`, so infra grants, watches (landing trigger) and
lists nothing for them, and no plugin may take their names."""
DEFAULT_DATASET = flights.DATASET.name
"""The dataset a run works on when none is named (flag, BATON_DATASET or the argument)."""


def registry() -> dict[str, Dataset]:
    """Every dataset this installation knows, by name."""
    found = dict(BUILTIN)
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        dataset = ep.load()
        if not isinstance(dataset, Dataset):
            raise ConfigError(
                f"entry point {ep.name} = {ep.value} is not a baton Dataset", reason="bad_plugin"
            )
        if dataset.name in RESERVED:
            raise ConfigError(
                f"entry point {ep.name} = {ep.value}: dataset name {dataset.name!r} is reserved "
                "for baton's canary; rename the dataset",
                reason="bad_plugin",
            )
        found[dataset.name] = dataset
    return found


def get(name: str) -> Dataset:
    """The dataset called `name`, or a ConfigError listing the known ones."""
    if name in RESERVED:
        return RESERVED[name]
    known = registry()
    if name not in known:
        raise ConfigError(
            # Built-in datasets first, in their order, then plugins: the ones a reader knows.
            f"unknown dataset {name!r}; known: {', '.join(known)}",
            reason="unknown_dataset",
        )
    return known[name]


def source_secret_ids(found: dict[str, Dataset] | None = None) -> tuple[str, ...]:
    """The ids of every Secret Manager secret the datasets' sources name (infra creates them
    and lets the extract identity read those alone)."""
    ids = set()
    for dataset in (found if found is not None else registry()).values():
        source = dataset.source
        auth = getattr(source, "auth", None)
        for secret in (getattr(auth, "secret", None), getattr(source, "password", None)):
            if isinstance(secret, Secret):
                ids.add(secret.secret_id)
    return tuple(sorted(ids))
