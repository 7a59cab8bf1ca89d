"""Configuration as code: the whole setup as one YAML/JSON document; this module reads and imports
it (``config_export`` writes it).

Document (``format: perception-setup/1``), sections in dependency order:
regions, collection_points, customers, contacts, tiers, services, subscriptions, strategy,
standards, slas, plan, roles, training. Objects refer to each other by code and to users by
username (users themselves are not part of the document: they are accounts, not setup).

Import is all-or-nothing: every entry is read first (problems name the path of the bad field,
e.g. ``standards[3].versions[0].target``), then applied inside a SAVEPOINT; any problem rolls the
whole document back, and so does a dry run once it has counted the changes. It is idempotent:
entries are matched on their natural key and only changed fields are written, so importing the
same document twice changes nothing the second time (``ImportResult.changes`` counts the audited
row changes). Import adds and updates, never deletes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from perception.core.audit import record
from perception.core.clock import DEFAULT_TIMEZONE
from perception.core.models.audit import AuditEntry
from perception.core.models.auth import User
from perception.core.models.org import CollectionPoint
from perception.core.nul import nul_problems
from perception.core.uploads import decode_text
from perception.setup.models.standards import (
    AgreementKind,
)
from perception.setup.services import catalog, schema
from perception.setup.services.agreements import save_sla
from perception.setup.services.errors import Problems, SetupError
from perception.setup.services.plan import (
    save_plan_item,
    save_training,
    set_point_roles,
    set_provider_names,
    set_system_owner,
)
from perception.setup.services.reader import Reader
from perception.setup.services.refs import Refs
from perception.setup.services.standard_io import restore_standard

FORMAT = "perception-setup/1"
SECTIONS = (
    "regions",
    "collection_points",
    "customers",
    "contacts",
    "tiers",
    "services",
    "subscriptions",
    "strategy",
    "standards",
    "slas",
    "plan",
    "roles",
    "training",
)


@dataclass(frozen=True)
class ImportResult:
    entries: dict[str, int]
    changes: int
    dry_run: bool


def load_text(text: str | bytes, fmt: str | None = None) -> Any:
    """Parse YAML or JSON text (JSON is YAML, but JSON errors are clearer with the JSON parser)."""
    if isinstance(text, bytes):  # an upload: UTF-8, UTF-16 or GB18030/GBK, as every upload
        text = decode_text(text, SetupError)[0]
    try:
        if fmt == "json" or (fmt is None and text.lstrip().startswith("{")):
            return json.loads(text)
        return yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise SetupError.one(
            "$", f"无法解析文档：{exc}", f"The document cannot be parsed: {exc}", code="unparsable"
        ) from exc


_READERS: dict[str, Callable[[Any, str, Problems], Any]] = {
    "regions": schema.read_region,
    "collection_points": schema.read_point,
    "customers": schema.read_customer,
    "contacts": schema.read_contact,
    "tiers": schema.read_tier,
    "services": schema.read_service,
    "subscriptions": schema.read_subscription,
    "strategy": schema.read_strategy,
    "standards": schema.read_standard,
    "slas": schema.read_sla,
    "plan": schema.read_plan,
    "training": schema.read_training,
}


def read_document(
    doc: Any, sections: tuple[str, ...] = SECTIONS, *, default_timezone: str = DEFAULT_TIMEZONE
) -> tuple[dict[str, list[tuple[str, Any]]], Any]:
    """Every entry read into its definition (path, def); raises SetupError naming every bad field.
    A text (or key) holding a NUL character is refused first, by its path: no column holds one,
    and PostgreSQL refuses even a lookup by it (perception.core.nul)."""
    holding_nul = nul_problems(doc)
    if holding_nul:
        raise SetupError(holding_nul)
    readers = _READERS | {
        "regions": partial(schema.read_region, default_timezone=default_timezone),
        "slas": partial(schema.read_sla, default_timezone=default_timezone),
    }
    p = Problems()
    r = Reader(doc, "", p)
    if r.data.get("format", FORMAT) != FORMAT:
        r.bad("format", f"不支持的格式，应为 {FORMAT}", f"Unsupported format: expected {FORMAT}.")
    for key in r.data:
        if key != "format" and key not in SECTIONS:
            r.bad(key, f"未知的部分“{key}”", f"Unknown section '{key}'.")
    defs: dict[str, list[tuple[str, Any]]] = {}
    for section in sections:
        if section in readers:
            defs[section] = [(path, readers[section](value, path, p)) for path, value in r.items(section)]
    roles = r.data.get("roles") if "roles" in sections else None
    if roles is not None:
        Reader(roles, "roles", p)  # records a problem if it is not an object
    p.raise_if_any()
    return defs, roles


def _ordered_standards(entries: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """Standards that others name as their experience target come first."""
    codes = {d.code for _, d in entries}
    placed: set[str] = set()
    out: list[tuple[str, Any]] = []
    pending = list(entries)
    while pending:
        ready = [
            e
            for e in pending
            if e[1].experience_standard is None
            or e[1].experience_standard not in codes
            or e[1].experience_standard in placed
        ]
        ready = ready or pending[:1]  # a cycle: the reference problem will name it
        for entry in ready:
            out.append(entry)
            placed.add(entry[1].code)
            pending.remove(entry)
    return out


def _apply_roles(session: Session, roles: Any, p: Problems) -> None:
    r = Reader(roles, "roles", p)
    refs = Refs(session, p)
    if "system_owner" in r.data:
        owner = refs.user(r.text("system_owner"), r.at("system_owner"))
        try:
            set_system_owner(session, owner, r.at("system_owner"))
        except SetupError as exc:
            p.extend(exc.problems)
    if "provider" in r.data:  # the provider's name on report covers: {zh: ..., en: ...}
        pr = Reader(r.data["provider"], r.at("provider"), p)
        set_provider_names(session, pr.text("zh", max_len=200) or "", pr.text("en", max_len=200) or "")
    for path, entry in r.items("collection_points"):
        er = Reader(entry, path, p)
        point = refs.by_code(CollectionPoint, er.req("code"), er.at("code"))
        lead = refs.user(er.text("lead"), er.at("lead"))
        organiser = refs.user(er.text("organiser"), er.at("organiser"))
        if point is not None:
            try:
                set_point_roles(session, point, lead, organiser, path)
            except SetupError as exc:
                p.extend(exc.problems)


class _Undo(Exception):
    """Raised inside the import's savepoint so that it is rolled back (problems, or a dry run)."""


def import_document(
    session: Session,
    doc: Any,
    user: User | None = None,
    *,
    dry_run: bool = False,
    sections: tuple[str, ...] = SECTIONS,
    default_timezone: str = DEFAULT_TIMEZONE,
) -> ImportResult:
    """Validate and apply a document all-or-nothing (see the module docstring). Regions and
    agreements that name no time zone get ``default_timezone`` (callers pass the organisation's)."""
    defs, roles = read_document(doc, sections, default_timezone=default_timezone)
    p = Problems()
    before = session.scalar(select(func.max(AuditEntry.id))) or 0
    appliers: dict[str, Callable[[Any, str], Any]] = {
        "regions": lambda d, path: catalog.save_region(session, d, path, p),
        "collection_points": lambda d, path: catalog.save_point(session, d, path, p),
        "customers": lambda d, path: catalog.save_customer(session, d, path, p),
        "contacts": lambda d, path: catalog.save_contact(session, d, path, p),
        "tiers": lambda d, path: catalog.save_tier(session, d, path, p),
        "services": lambda d, path: catalog.save_service(session, d, path, p),
        "subscriptions": lambda d, path: catalog.save_subscription(session, d, path, p),
        "strategy": lambda d, path: catalog.save_strategy(session, d, path, p),
        "standards": lambda d, path: restore_standard(session, d, path, p, user),
        "slas": lambda d, path: save_sla(session, d, path, p),
        "plan": lambda d, path: save_plan_item(session, d, path, p),
        "training": lambda d, path: save_training(session, d, path, p),
    }
    try:
        # The savepoint is released when every entry applied cleanly; any exception inside,
        # _Undo included, rolls the whole document back.
        with session.begin_nested():
            for section in sections:
                entries = defs.get(section, [])
                if section == "standards":
                    entries = _ordered_standards(entries)
                if section == "slas":
                    entries = sorted(entries, key=lambda e: e[1].kind == AgreementKind.OLA)
                if section == "roles" and roles is not None:
                    _apply_roles(session, roles, p)
                for path, d in entries:
                    appliers[section](d, path)
            changes = session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.id > before)) or 0
            if p or dry_run:
                raise _Undo
    except _Undo:
        p.raise_if_any()
    counts = {s: len(defs.get(s, [])) for s in sections if s in defs}
    if not dry_run:
        record(session, "import", object_type="setup", summary=f"setup import: {changes} changes, {counts}")
    return ImportResult(counts, int(changes), dry_run)


__all__ = [
    "FORMAT",
    "SECTIONS",
    "ImportResult",
    "import_document",
    "load_text",
    "read_document",
]
