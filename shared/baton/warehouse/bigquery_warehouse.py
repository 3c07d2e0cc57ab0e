"""BigQuery: a partition is replaced by one load job from the lake's gs:// Parquet into
`table$YYYYMMDD` with WRITE_TRUNCATE (atomic; every row must fall in that partition)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from baton.config import Settings
from baton.contract import bigquery_fields
from baton.errors import ConfigError, DataError, TransientError, UnavailableError
from baton.storage import Storage
from baton.warehouse import TableSpec


def load_job_config(table: TableSpec) -> Any:
    """The exact LoadJobConfig baton sends for one partition of `table`."""
    from google.cloud import bigquery

    dest = table.destination
    return bigquery.LoadJobConfig(
        source_format=bigquery.SourceFormat.PARQUET,
        write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
        create_disposition=bigquery.CreateDisposition.CREATE_IF_NEEDED,
        schema=[bigquery.SchemaField.from_api_repr(f) for f in bigquery_fields(table.columns)],
        time_partitioning=bigquery.TimePartitioning(
            type_=bigquery.TimePartitioningType.DAY, field=dest.partition_column
        ),
        clustering_fields=list(dest.clustering) or None,
        # Honoured with WRITE_TRUNCATE because the destination is a partition decorator.
        schema_update_options=[bigquery.SchemaUpdateOption.ALLOW_FIELD_ADDITION],
    )


def job_id(table: str, day: date, run_id: str) -> str:
    """A load job id unique per attempt (BigQuery rejects a reused id)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", f"baton_{table}_{day:%Y%m%d}_{run_id}")[:1024]


def _client(settings: Settings) -> Any:
    """A BigQuery client; with BATON_BQ_API_ENDPOINT, one that talks to that local stand-in
    anonymously (as google-cloud-storage does with STORAGE_EMULATOR_HOST)."""
    from google.cloud import bigquery

    if settings.bq_api_endpoint:
        from google.auth.credentials import AnonymousCredentials

        return bigquery.Client(
            project=settings.bq_project,
            location=settings.bq_location,
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": settings.bq_api_endpoint},
        )
    return bigquery.Client(project=settings.bq_project, location=settings.bq_location)


class BigQueryWarehouse:
    """Load jobs into `project.dataset`."""

    def __init__(
        self,
        client: Any,
        project: str,
        dataset: str,
        location: str,
        storage: Storage,
        run_id: str = "manual",
    ) -> None:
        self.client, self.project, self.dataset, self.location = client, project, dataset, location
        self.storage = storage
        self.run_id = run_id

    @classmethod
    def from_settings(cls, settings: Settings, storage: Storage, run_id: str) -> BigQueryWarehouse:
        if not settings.bq_project:
            raise ConfigError(
                "BATON_BQ_PROJECT is required with BATON_WAREHOUSE=bigquery",
                reason="missing_setting",
            )
        if not storage.uri("x").startswith("gs://"):
            raise ConfigError(
                "BigQuery loads from Cloud Storage: set BATON_LAKE=gs://bucket/prefix",
                reason="warehouse_needs_gcs_lake",
            )
        client = _client(settings)
        return cls(
            client, settings.bq_project, settings.bq_dataset, settings.bq_location, storage, run_id
        )

    def describe(self) -> str:
        return f"bigquery:{self.project}.{self.dataset}"

    def close(self) -> None:
        """Close the client's HTTP session."""
        self.client.close()

    def destination(self, table: str, day: date) -> str:
        """The partition decorator: only partition `day` is replaced."""
        return f"{self.project}.{self.dataset}.{table}${day:%Y%m%d}"

    def replace_partition(
        self, table: TableSpec, day: date, keys: Sequence[str], expected_rows: int
    ) -> int:
        from google.api_core import exceptions as gexc

        uris = [self.storage.uri(k) for k in keys]
        try:
            job = self.client.load_table_from_uri(
                uris,
                self.destination(table.name, day),
                job_id=job_id(table.name, day, self.run_id),
                location=self.location,
                job_config=load_job_config(table),
            )
            job.result()
        except gexc.BadRequest as err:
            raise DataError(
                f"BigQuery rejected the load of {table.name} {day}: {err}", reason="load_rejected"
            ) from err
        except (gexc.Forbidden, gexc.NotFound) as err:
            raise UnavailableError(
                f"BigQuery {self.describe()}: {err}; check the dataset exists and the "
                "load job's service account may write it",
                reason="warehouse_unavailable",
            ) from err
        except (gexc.TooManyRequests, gexc.ServerError) as err:
            raise TransientError(
                f"BigQuery load of {table.name} {day}: {err}", reason="warehouse_transient"
            ) from err
        loaded = int(job.output_rows or 0)
        if loaded != expected_rows:
            raise DataError(
                f"table {table.name} partition {day}: BigQuery loaded {loaded} rows, "
                f"{expected_rows} expected",
                reason="load_mismatch",
            )
        return loaded

    def partition_rows(self, table: TableSpec, day: date) -> int | None:
        """COUNT(*) of the partition by a query job (tables.getData on the table)."""
        from google.api_core import exceptions as gexc
        from google.cloud import bigquery

        name = f"`{self.project}.{self.dataset}.{table.name}`"
        config = bigquery.QueryJobConfig(
            query_parameters=[bigquery.ScalarQueryParameter("day", "DATE", day)]
        )
        part = table.destination.partition_column
        try:
            rows = self.client.query(
                f"SELECT COUNT(*) AS n FROM {name} WHERE `{part}` = @day",
                job_config=config,
                location=self.location,
            ).result()
        except gexc.NotFound:
            return None
        return int(next(iter(rows))["n"])

    def drop_table(self, name: str) -> bool:
        """tables.delete (`not_found_ok`): https://cloud.google.com/bigquery/docs/managing-tables#deleting_a_table"""
        from google.api_core import exceptions as gexc

        table = f"{self.project}.{self.dataset}.{name}"
        try:
            self.client.get_table(table)
        except gexc.NotFound:
            return False
        self.client.delete_table(table, not_found_ok=True)
        return True
