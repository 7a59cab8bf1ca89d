"""What a closed ticket asks of the other phases: the tickets an applied batch of objects (the
ticket API's, a service-desk event's) closes get the surveys phase's transactional invitation job,
by name (kpi does not import surveys). The import announces them (``ticket_import.tickets_closed``)
and this receiver, outside the operations, asks for the job; it is connected when the kpi phase is
mounted, and does nothing without an application (a benchmark's bare import)."""

from __future__ import annotations

from typing import Any

from flask import has_app_context

from perception.kpi.services.ticket_import import tickets_closed

CHUNK = 500  # ticket ids per invitation job


@tickets_closed.connect
def ask_for_invitations(session: Any, ticket_ids: list[int], **_: Any) -> None:
    if not has_app_context() or not ticket_ids:
        return
    from perception.core.jobs import enqueue

    for start in range(0, len(ticket_ids), CHUNK):
        enqueue("invite_for_closed_ticket", ticket_ids=ticket_ids[start : start + CHUNK])
