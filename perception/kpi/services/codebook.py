"""Codes and names of the reference data an import matches (service, region, customer, tier), loaded
once per import into dicts, and the matching of a file's header cells to canonical columns.

Matching is case-insensitive and accepts codes, English and Chinese names, so a Chinese Excel
export ("服务台", "北京") maps as well as a code ("DESK", "BJ").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.core.clock import DEFAULT_TIMEZONE
from perception.core.models.org import CustomerOrg, Region
from perception.setup.models.catalog import Service, ServiceTier, Subscription


def normalise_header(text: str) -> str:
    return text.strip().lstrip("\ufeff").lower().replace(" ", "_").replace("-", "_")


def match_columns(
    header: Iterable[str], spec: dict[str, tuple[str, ...]]
) -> tuple[dict[str, int], list[int]]:
    """(canonical name -> column index, indices of unrecognised columns)."""
    lookup = {alias: name for name, aliases in spec.items() for alias in aliases}
    found: dict[str, int] = {}
    unknown: list[int] = []
    for index, cell in enumerate(header):
        name = lookup.get(normalise_header(cell))
        if name is None or name in found:
            unknown.append(index)
        else:
            found[name] = index
    return found, unknown


def code_key(value: str) -> str:
    return value.strip().upper()


@dataclass(frozen=True)
class Codebook:
    """Codes and names -> ids, loaded once per import."""

    services: dict[str, int]
    regions: dict[str, int]
    region_tz: dict[int, str]
    customers: dict[str, int]
    customer_region: dict[int, int]
    tiers: dict[str, int]
    subscription_tier: dict[tuple[int, int], int | None]

    @classmethod
    def load(cls, session: Session) -> Codebook:
        def rows(model: Any, *extra: Any) -> list[Any]:
            return list(session.execute(select(model.id, model.code, model.name_zh, model.name_en, *extra)))

        def keyed(items: Iterable[Any]) -> dict[str, int]:
            out: dict[str, int] = {}
            for row in items:
                for text in (row.name_en, row.name_zh, row.code):  # the code wins on a clash
                    if text:
                        out[code_key(text)] = row.id
            return out

        regions = rows(Region, Region.timezone)
        customers = rows(CustomerOrg, CustomerOrg.region_id)
        subscriptions = session.execute(
            select(Subscription.customer_id, Subscription.service_id, Subscription.tier_id)
        )
        return cls(
            services=keyed(rows(Service)),
            regions=keyed(regions),
            region_tz={r.id: r.timezone or DEFAULT_TIMEZONE for r in regions},
            customers=keyed(customers),
            customer_region={c.id: c.region_id for c in customers},
            tiers=keyed(rows(ServiceTier)),
            subscription_tier={(s.customer_id, s.service_id): s.tier_id for s in subscriptions},
        )
