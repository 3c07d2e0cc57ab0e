"""How an HTTP source finds the next page: a cursor in the body, a `Link: rel=next` header,
or offset/limit, each declared in the dataset definition; a repeated page is an error."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urljoin

from baton.errors import DataError


@dataclass(frozen=True)
class Request:
    """One page request: the URL and its query parameters (the URL alone for a Link)."""

    url: str
    params: Mapping[str, str]


class Pagination(Protocol):
    """Given the request, the decoded page and its response headers, the next request."""

    def first(self, request: Request) -> Request: ...
    def next(
        self, request: Request, page: Any, links: Mapping[str, Any], rows: int, where: str
    ) -> Request | None: ...


@dataclass(frozen=True)
class SinglePage:
    """The whole partition comes in one response."""

    def first(self, request: Request) -> Request:
        return request

    def next(
        self, request: Request, page: Any, links: Mapping[str, Any], rows: int, where: str
    ) -> Request | None:
        return None


@dataclass(frozen=True)
class CursorPages:
    """The body carries the next page's token at `cursor_field` (a dotted path); null or an
    empty string ends; a page without the field at all is an error (the API changed)."""

    cursor_field: str = "next_cursor"
    cursor_param: str = "cursor"

    def first(self, request: Request) -> Request:
        return request

    def next(
        self, request: Request, page: Any, links: Mapping[str, Any], rows: int, where: str
    ) -> Request | None:
        found, cursor = dig(page, self.cursor_field)
        if not found:
            raise DataError(
                f"{where}: the page has no field {self.cursor_field!r} (the cursor of the next "
                "page); the API's response shape changed: fix the dataset's cursor_field",
                reason="bad_page",
            )
        if cursor in (None, ""):
            return None
        return Request(request.url, {**request.params, self.cursor_param: str(cursor)})


@dataclass(frozen=True)
class LinkPages:
    """The response's `Link` header names the next page (`rel="next"`, RFC 8288)."""

    def first(self, request: Request) -> Request:
        return request

    def next(
        self, request: Request, page: Any, links: Mapping[str, Any], rows: int, where: str
    ) -> Request | None:
        target = links.get("next", {}).get("url")
        return Request(urljoin(request.url, target), {}) if target else None


@dataclass(frozen=True)
class OffsetPages:
    """`offset`/`limit` query parameters; a page shorter than `limit` is the last."""

    limit: int = 1000
    offset_param: str = "offset"
    limit_param: str = "limit"

    def first(self, request: Request) -> Request:
        params = {**request.params, self.offset_param: "0", self.limit_param: str(self.limit)}
        return Request(request.url, params)

    def next(
        self, request: Request, page: Any, links: Mapping[str, Any], rows: int, where: str
    ) -> Request | None:
        if rows < self.limit:
            return None
        offset = int(request.params[self.offset_param]) + rows
        return Request(request.url, {**request.params, self.offset_param: str(offset)})


def dig(document: Any, path: str) -> tuple[bool, Any]:
    """(found, value) at a dotted `path` of a decoded JSON document ("" is the document)."""
    value = document
    for part in [p for p in path.split(".") if p]:
        if not isinstance(value, dict) or part not in value:
            return False, None
        value = value[part]
    return True, value
