"""Names of the regions, services, tiers and customers the analysis pages label their rows with.

One query per table (they are small catalogues), returned as id -> Named, so pages and exports
label thousands of aggregated rows without a query per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.core.models.org import CustomerOrg, Region
from perception.setup.models.catalog import Service, ServiceTier


@dataclass(frozen=True)
class Named:
    id: int
    code: str
    name_zh: str
    name_en: str

    def label(self, zh: bool) -> str:
        return (self.name_zh if zh else self.name_en) or self.name_en or self.name_zh or self.code


@dataclass(frozen=True)
class Names:
    regions: dict[int, Named]
    services: dict[int, Named]
    tiers: dict[int, Named]
    customers: dict[int, Named]

    def region(self, region_id: int | None) -> Named:
        return _get(self.regions, region_id)

    def service(self, service_id: int | None) -> Named:
        return _get(self.services, service_id)

    def tier(self, tier_id: int | None) -> Named:
        return _get(self.tiers, tier_id)

    def customer(self, customer_id: int | None) -> Named:
        return _get(self.customers, customer_id)


_NONE = Named(0, "—", "（未指定）", "(unspecified)")


def _get(table: dict[int, Named], key: int | None) -> Named:
    if key is None:
        return _NONE
    return table.get(key) or Named(key, str(key), str(key), str(key))


def _load(session: Session, model: Any, *, customers: bool = False) -> dict[int, Named]:
    rows = session.execute(select(model.id, model.code, model.name_zh, model.name_en))
    return {i: Named(i, c, zh, en) for i, c, zh, en in rows}


def load_names(session: Session, *, customers: bool = True) -> Names:
    return Names(
        regions=_load(session, Region),
        services=_load(session, Service),
        tiers=_load(session, ServiceTier),
        customers=_load(session, CustomerOrg) if customers else {},
    )
