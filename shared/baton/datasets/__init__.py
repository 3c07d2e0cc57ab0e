"""The dataset registry: baton's built-in datasets plus any installed plugin.

A plugin is a package exposing a `Dataset` through the `baton.datasets` entry-point group,
e.g. `[project.entry-points."baton.datasets"] orders = "acme_orders:DATASET"`.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from baton.errors import ConfigError

if TYPE_CHECKING:  # baton.dataset imports polars: `known_name` needs none of it
    from baton.dataset import Dataset

ENTRY_POINT_GROUP = "baton.datasets"
BUILTIN_MODULES = {
    "flights": "baton.datasets.flights",
    "weather": "baton.datasets.weather",
    "flights_api": "baton.datasets.flights_api",
    "flights_db": "baton.datasets.flights_db",
}
"""Baton's own datasets by name, each imported only when it is asked for: a step process runs
one dataset, and the others' sources (an HTTP client, a database driver's SQL) cost it start-up
time for nothing."""
RESERVED_MODULES = {"baton_canary": "baton.datasets.canary"}
"""Datasets baton runs for itself (`baton doctor --canary`): resolvable by name, so the step
containers run them, but never in `registry()`, so infra grants, watches (landing trigger) and
lists nothing for them, and no plugin may take their names."""
DEFAULT_DATASET = "flights"
"""The dataset a run works on when none is named (flag, BATON_DATASET or the argument)."""


def _module_dataset(module: str) -> Dataset:
    return importlib.import_module(module).DATASET


def builtin() -> dict[str, Dataset]:
    """Baton's own datasets (not the reserved ones), in their order: imports them all."""
    return {name: _module_dataset(module) for name, module in BUILTIN_MODULES.items()}


def plugins() -> dict[str, Dataset]:
    """The datasets installed plugins register, by name (sorted by entry-point name)."""
    from baton.dataset import Dataset

    found: dict[str, Dataset] = {}
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        dataset = ep.load()
        if not isinstance(dataset, Dataset):
            raise ConfigError(
                f"entry point {ep.name} = {ep.value} is not a baton Dataset", reason="bad_plugin"
            )
        if dataset.name in RESERVED_MODULES:
            raise ConfigError(
                f"entry point {ep.name} = {ep.value}: dataset name {dataset.name!r} is reserved "
                "for baton's canary; rename the dataset",
                reason="bad_plugin",
            )
        found[dataset.name] = dataset
    return found


def registry() -> dict[str, Dataset]:
    """Every dataset this installation knows, by name: the built-in ones first, in their
    order, then plugins (a plugin of a built-in's name replaces it)."""
    return builtin() | plugins()


def get(name: str) -> Dataset:
    """The dataset called `name`, or a ConfigError listing the known ones. Imports that one
    dataset's module (and every plugin's, as `registry()` does), not the other built-ins."""
    if name in RESERVED_MODULES:
        return _module_dataset(RESERVED_MODULES[name])
    installed = plugins()
    if name in installed:
        return installed[name]
    if name in BUILTIN_MODULES:
        return _module_dataset(BUILTIN_MODULES[name])
    known = [*BUILTIN_MODULES, *(n for n in installed if n not in BUILTIN_MODULES)]
    raise ConfigError(
        # Built-in datasets first, in their order, then plugins: the ones a reader knows.
        f"unknown dataset {name!r}; known: {', '.join(known)}",
        reason="unknown_dataset",
    )


def known_name(name: str) -> str:
    """`name` when a dataset of that name exists, else the ConfigError of `get`. A built-in or
    reserved name is checked without importing its module (which imports polars): what `baton
    status` needs, since the grid reads manifests and no data."""
    if name in BUILTIN_MODULES or name in RESERVED_MODULES:
        return name
    return get(name).name


def source_secret_ids(found: dict[str, Dataset] | None = None) -> tuple[str, ...]:
    """The ids of every Secret Manager secret the datasets' sources name (infra creates them
    and lets the extract identity read those alone)."""
    from baton.sources.secret import Secret  # only infra asks: keep it off a step's start-up

    ids = set()
    for dataset in (found if found is not None else registry()).values():
        source = dataset.source
        auth = getattr(source, "auth", None)
        for secret in (getattr(auth, "secret", None), getattr(source, "password", None)):
            if isinstance(secret, Secret):
                ids.add(secret.secret_id)
    return tuple(sorted(ids))
