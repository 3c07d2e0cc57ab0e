"""Pure polars: build a dataset's marts from its validated rows."""

from __future__ import annotations

import polars as pl

from baton.dataset import Mart


def build_mart(mart: Mart, validated: pl.LazyFrame) -> pl.LazyFrame:
    """The mart's rows for one partition, in the mart's declared column order and types."""
    return mart.build(validated).select([pl.col(c.name).cast(c.dtype) for c in mart.columns])
