"""The search filters a visitor puts in the URL, shared by the JSON API and the portal page."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from fastapi import Query
from sqlalchemy.orm import Session

from longshu.catalog.search import SearchQuery
from longshu.orgs import regions


@dataclass
class SearchParams:
    q: str | None
    domain: str | None
    provider: int | None
    region: str | None
    level: str | None
    share_type: str | None
    open_type: str | None
    format: str | None
    grade: str | None
    update_cycle: str | None
    kind: str | None
    database: str | None
    sort: str

    def chosen(self) -> dict[str, object]:
        """The filters that are set (for links that keep them)."""
        return {k: v for k, v in asdict(self).items() if v not in (None, "") and k != "sort"}

    def query(self, session: Session, limit: int, offset: int) -> SearchQuery:
        """The service's query; a region includes every region below it (the province view
        aggregates its cities and counties)."""
        return SearchQuery(
            q=self.q, domain=self.domain, provider_org_id=self.provider,
            region_codes=regions.descendant_codes(session, self.region) if self.region else None,
            level=self.level, share_type=self.share_type, open_type=self.open_type,
            format=self.format, grade=self.grade, update_cycle=self.update_cycle,
            kind=self.kind, database=self.database, sort=self.sort, limit=limit, offset=offset,
        )  # fmt: skip


def search_params(
    q: str | None = Query(default=None, max_length=200),
    domain: str | None = Query(default=None, max_length=40),
    provider: int | None = None,
    region: str | None = Query(default=None, max_length=12),
    level: str | None = Query(default=None, max_length=20),
    share_type: str | None = Query(default=None, max_length=20),
    open_type: str | None = Query(default=None, max_length=20),
    format: str | None = Query(default=None, max_length=20),
    grade: str | None = Query(default=None, max_length=40),
    update_cycle: str | None = Query(default=None, max_length=20),
    kind: str | None = Query(default=None, max_length=20),
    database: str | None = Query(default=None, max_length=40),
    sort: Literal["relevance", "newest", "name"] = "relevance",
) -> SearchParams:
    return SearchParams(
        q, domain, provider, region, level, share_type, open_type, format, grade,
        update_cycle, kind, database, sort,
    )  # fmt: skip
