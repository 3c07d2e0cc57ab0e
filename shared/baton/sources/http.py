"""An HTTP API source: one partition fetched page by page from a REST endpoint, the
partition's date window as query parameters.

Pages are decoded and spooled to the lake as they arrive (bounded memory whatever the size of
the partition); the rows received are counted and checked against what extract writes.
Transient failures (timeouts, connection errors, 5xx, 429) are retried in process with
tenacity, honouring `Retry-After`, with exponential backoff and a bound; the client also caps
its own request rate. A 401/403 fails at once (exit 5: the credentials are wrong), any other
4xx too (exit 4: the request or the data is wrong). Messages name the status and the URL with
its query string redacted; the credential never appears in them.

A failed attempt refetches the partition from its first page: a partition is one consistent
read of the API, so pages fetched at different times (whose offsets or cursors may have moved
as upstream changed) are never mixed into one commit.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import polars as pl
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from baton import log
from baton.errors import DataError, TransientError, UnavailableError
from baton.manifest import InputRef
from baton.sources.landing import Landing, LandingPart, ReadContext, Spool
from baton.sources.pagination import (
    CursorPages,
    LinkPages,
    OffsetPages,
    Pagination,
    Request,
    SinglePage,
    dig,
)
from baton.sources.records import records_frame
from baton.sources.secret import Secret, SecretValue
from baton.storage import Storage

__all__ = [
    "ApiKeyAuth",
    "BearerAuth",
    "CursorPages",
    "HttpSource",
    "LinkPages",
    "OffsetPages",
    "RetryPolicy",
    "SinglePage",
]


@dataclass(frozen=True)
class BearerAuth:
    """`Authorization: Bearer <secret>`."""

    secret: Secret

    def headers(self, value: SecretValue) -> dict[str, str]:
        return {"Authorization": f"Bearer {value.reveal()}"}


@dataclass(frozen=True)
class ApiKeyAuth:
    """An API key in a request header (never in the query string, which proxies log)."""

    secret: Secret
    header: str = "X-API-Key"

    def headers(self, value: SecretValue) -> dict[str, str]:
        return {self.header: value.reveal()}


@dataclass(frozen=True)
class RetryPolicy:
    """In-process retries of one request on transient failures."""

    attempts: int = 6
    """Tries per request, the first included."""
    initial_wait_s: float = 0.5
    """Backoff before the second try; doubles each time."""
    max_wait_s: float = 30.0
    """Longest wait between tries; a `Retry-After` asking for more ends the attempt (exit 75)."""
    timeout_s: float = 30.0
    """Connect and read timeout of one request."""


class _RetryableError(Exception):
    """A failure worth another try; `what` says which (status or error class)."""

    def __init__(self, what: str, retry_after: float | None = None) -> None:
        super().__init__(what)
        self.what, self.retry_after = what, retry_after


def redact(url: str) -> str:
    """`url` without its query string (which may carry tokens or personal data)."""
    base, sep, _ = url.partition("?")
    return f"{base}?<redacted>" if sep else base


@dataclass(frozen=True)
class HttpSource:
    """One partition from a paginated JSON API.

    `params` values may use `{date}` (the partition, YYYY-MM-DD), `{start}` and `{end}` (the
    window [date, date + 1 day) as ISO dates). `records` is the dotted path of the list of rows
    in a page ("" when the page is the list). `url_env` names an environment variable that, when
    set in the step's environment, replaces `url` (another host, a local stand-in).
    """

    schema: Mapping[str, pl.DataType]
    url: str
    params: Mapping[str, str] = field(default_factory=lambda: {"date": "{date}"})
    records: str = "data"
    pagination: Pagination = field(default_factory=SinglePage)
    auth: BearerAuth | ApiKeyAuth | None = None
    url_env: str | None = None
    total_field: str | None = None
    """Dotted path of the partition's row count the API declares (checked when present)."""
    max_requests_per_second: float | None = 10.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_page_bytes: int = 64 * 1024 * 1024
    """A page larger than this fails (exit 4) instead of exhausting memory."""
    datetime_formats: Mapping[str, str] = field(default_factory=dict)
    allow_empty: bool = False

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ValueError(f"HTTP source url {self.url!r} must start with http:// or https://")
        if "?" in self.url:
            raise ValueError("HTTP source url: put query parameters in `params`, not the url")

    def landing_keys(self, dataset: str, day: date) -> list[str]:
        return []  # nothing is landed: the API is read directly

    def inputs(self, storage: Storage, dataset: str, day: date) -> list[InputRef]:
        """The request, fingerprinted: a committed partition skips unless forced (the API
        offers no digest of its data; `--force` refetches)."""
        request = {
            "url": self.url,
            "params": self.query(day),
            "records": self.records,
            "pagination": repr(self.pagination),
        }
        digest = hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()
        return [InputRef(key=f"{self.url}#{day.isoformat()}", digest=f"request:{digest}")]

    def parse_options(self, column: str) -> dict[str, Any]:
        fmt = self.datetime_formats.get(column)
        return {"format": fmt} if fmt else {}

    def query(self, day: date) -> dict[str, str]:
        """The query parameters of partition `day`'s first request."""
        window = {
            "date": day.isoformat(),
            "start": day.isoformat(),
            "end": (day + timedelta(days=1)).isoformat(),
        }
        return {k: v.format(**window) for k, v in self.params.items()}

    def open(self, ctx: ReadContext, inputs: list[InputRef]) -> Landing:
        """Fetch every page of the partition, spooling its rows as they arrive."""
        url = ctx.environ.get(self.url_env, "") if self.url_env else ""
        fetch = PageFetch(self, url or self.url, ctx.environ)
        spool = Spool(ctx.storage, f"{ctx.spool_prefix}/http", list(self.schema))
        try:
            for rows in fetch.pages(ctx.day):
                spool.add(records_frame(rows, list(self.schema)))
        except BaseException:
            spool.discard()
            raise
        finally:
            fetch.close()
        where = redact(fetch.base + "?")
        frame = spool.frame()
        return Landing(
            [LandingPart(where, frame)],
            spooled=spool.keys,
            expected_rows=fetch.received,
            describe=where,
        )


class PageFetch:
    """One partition's page loop against a live API (the I/O half of `HttpSource`)."""

    def __init__(
        self,
        source: HttpSource,
        base: str,
        environ: Mapping[str, str],
        *,
        session: Any | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        import requests

        self.source, self.base = source, base
        self.session = session or requests.Session()
        self.sleep, self.clock = sleep, clock
        secret = source.auth.secret.resolve(environ) if source.auth else None
        self._headers = {"Accept": "application/json"}
        if source.auth and secret is not None:
            self._headers |= source.auth.headers(secret)
        self._next_at = 0.0
        self.received = 0
        self.requests = 0

    def close(self) -> None:
        """Release the connection pool."""
        self.session.close()

    def pages(self, day: date) -> Iterator[list[dict[str, Any]]]:
        """The rows of each page, in order, until the pagination says there are no more."""
        pagination = self.source.pagination
        request: Request | None = pagination.first(Request(self.base, self.source.query(day)))
        seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
        declared: int | None = None
        number = 0
        while request is not None:
            marker = (request.url, tuple(sorted(request.params.items())))
            if marker in seen:
                raise DataError(
                    f"HTTP source {redact(request.url)}: page {number + 1} asks for a page already "
                    "fetched (the cursor loops back); the API's pagination is broken",
                    reason="pagination_loop",
                )
            seen.add(marker)
            number += 1
            where = f"HTTP source {_shown(request)} page {number}"
            page, links = self._get(request, where)
            rows = self._rows(page, where)
            declared = self._declared(page, declared)
            self.received += len(rows)
            log.get().debug("page fetched", source=redact(request.url), page=number, rows=len(rows))
            yield rows
            request = pagination.next(request, page, links, len(rows), where)
        if declared is not None and declared != self.received:
            raise DataError(
                f"HTTP source {redact(self.base)}: the API declared {declared} rows "
                f"({self.source.total_field}) but sent {self.received}",
                reason="source_count_mismatch",
            )

    def _declared(self, page: Any, before: int | None) -> int | None:
        if not self.source.total_field:
            return before
        found, value = dig(page, self.source.total_field)
        return int(value) if found and isinstance(value, int) else before

    def _rows(self, page: Any, where: str) -> list[dict[str, Any]]:
        found, rows = dig(page, self.source.records)
        if not found or not isinstance(rows, list):
            raise DataError(
                f"{where}: no list of rows at {self.source.records or 'the top level'!r}; the "
                "API's response shape changed: fix the dataset's records path",
                reason="bad_page",
            )
        if not all(isinstance(r, dict) for r in rows):
            raise DataError(f"{where}: a row is not a JSON object", reason="bad_page")
        return rows

    def _get(self, request: Request, where: str) -> tuple[Any, Mapping[str, Any]]:
        policy = self.source.retry
        retrying = Retrying(
            retry=retry_if_exception_type(_RetryableError),
            stop=stop_after_attempt(policy.attempts),
            wait=self._wait,
            sleep=self.sleep,
            reraise=True,
        )
        try:
            return retrying(self._once, request, where)
        except _RetryableError as err:
            raise TransientError(
                f"{where}: {err.what}, still after {policy.attempts} tries; the API is "
                "unavailable: the step is worth retrying later",
                reason="source_transient",
            ) from None  # the cause would quote the URL with its query string

    def _wait(self, state: RetryCallState) -> float:
        policy = self.source.retry
        backoff = min(policy.max_wait_s, policy.initial_wait_s * 2 ** (state.attempt_number - 1))
        err = state.outcome.exception() if state.outcome else None
        asked = err.retry_after if isinstance(err, _RetryableError) and err.retry_after else 0.0
        return max(backoff, asked)

    def _pace(self) -> None:
        """Keep under `max_requests_per_second` (client side)."""
        rate = self.source.max_requests_per_second
        if not rate:
            return
        now = self.clock()
        if self._next_at > now:
            self.sleep(self._next_at - now)
            now = self._next_at
        self._next_at = now + 1.0 / rate

    def _once(self, request: Request, where: str) -> tuple[Any, Mapping[str, Any]]:
        import requests

        self._pace()
        self.requests += 1
        try:
            response = self.session.get(
                request.url,
                params=dict(request.params),
                headers=self._headers,
                timeout=self.source.retry.timeout_s,
                stream=True,
            )
        except (requests.Timeout, requests.ConnectionError) as err:
            raise _RetryableError(f"{type(err).__name__} (no response)") from None
        with response:
            self._check_status(response, where)
            body = self._body(response, where)
            links = response.links
        try:
            return json.loads(body), links
        except ValueError:
            kind = response.headers.get("Content-Type", "no content type")
            raise DataError(
                f"{where}: the response is not JSON ({kind}, {len(body)} bytes); check the "
                "url, or whether a proxy answered instead of the API",
                reason="bad_page",
            ) from None

    def _check_status(self, response: Any, where: str) -> None:
        status = response.status_code
        if status == 429 or status >= 500:
            retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            if retry_after is not None and retry_after > self.source.retry.max_wait_s:
                raise TransientError(
                    f"{where}: HTTP {status}, and the API asks to wait {retry_after:.0f} s, more "
                    f"than max_wait_s ({self.source.retry.max_wait_s:.0f} s): retry the step later",
                    reason="source_transient",
                )
            raise _RetryableError(f"HTTP {status}", retry_after)
        if status in (401, 403):
            secret = self.source.auth.secret.name if self.source.auth else None
            raise UnavailableError(
                f"{where}: HTTP {status}: the API refused the credentials; "
                + (f"check secret {secret}" if secret else "the source sends none: set its auth"),
                reason="source_denied",
            )
        if 400 <= status < 500:
            raise DataError(
                f"{where}: HTTP {status}: the API rejected the request; check the dataset's url "
                "and params (a 404 may be a date the API does not serve)",
                reason="source_rejected",
            )

    def _body(self, response: Any, where: str) -> bytes:
        import requests

        limit = self.source.max_page_bytes
        chunks, size = [], 0
        try:
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > limit:
                    raise DataError(
                        f"{where}: the response is larger than max_page_bytes ({limit} bytes); "
                        "ask the API for smaller pages, or raise the dataset's max_page_bytes",
                        reason="page_too_large",
                    )
                chunks.append(chunk)
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as err:
            raise _RetryableError(f"connection broken mid-page ({type(err).__name__})") from None
        return b"".join(chunks)


def _shown(request: Request) -> str:
    """The request's URL for messages: the query string (params or a Link's) redacted."""
    return redact(request.url + ("?" if request.params else ""))


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a `Retry-After` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None
