"""The pages of every history import (past survey answers, weekly reports, callbacks): upload ->
dry run -> preview of what would change -> apply, all-or-nothing.

A phase describes its import once (``HistoryImport``: how to run it, its options, where a dry
run's upload is kept, its batch) and its three views call ``upload_page``, ``preview_page`` and
``apply_page`` with their own URLs and permission. The flow, its messages and its handling of a
refused file (every problem listed, nothing stored) are written here once. The platform imports
no phase, so what is phase-specific comes in as callables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import flash, redirect, render_template
from flask_babel import gettext as _

from perception.core.errors import UserError
from perception.core.transaction import atomic
from perception.core.uploads import upload_on_disk

UPLOAD_TEMPLATE = "surveys/history_import.html"
PREVIEW_TEMPLATE = "surveys/history_preview.html"


@dataclass(frozen=True)
class HistoryImport:
    """One kind of history import as its pages see it.

    ``run(options, data, filename, batch)`` checks (and unless a dry run, stores) a file and
    returns its result (``batch_id``, ``rows_new``, ``rows_changed``, ``rows_unchanged``);
    ``options(dry_run)`` the options of the signed-in user; ``stored(options, batch)`` the upload
    a dry run kept; ``batch(batch_id)`` the dry run's batch of this kind (or a 404); ``error`` what
    ``run`` raises for a refused file (``problems`` and ``total``); ``dry_run_status`` the status
    of a batch that may still be applied."""

    run: Callable[[Any, Any, str | None, Any], Any]
    options: Callable[[bool], Any]
    stored: Callable[[Any, Any], Any]
    batch: Callable[[int], Any]
    error: type[UserError]
    upload_form: Callable[[], Any]
    apply_form: Callable[[], Any]
    dry_run_status: str


def problem_lines(exc: UserError) -> list[str]:
    """A refused file's problems in the reader's language, and how many more were not listed."""
    from perception.core.i18n import lang_code

    problems = exc.problems
    lines = [p.located(lang_code()) for p in problems]
    total = int(getattr(exc, "total", len(problems)) or len(problems))
    if total > len(problems):
        lines.append(_("… and %(n)s more problems.", n=total - len(problems)))
    return lines


def upload_page(
    spec: HistoryImport,
    *,
    title: str,
    columns_help: str,
    back: str,
    preview: Callable[[int], str],
    campaign: Any = None,
) -> Any:
    """GET: the upload form; POST: a dry run, then the preview (or the form with every problem)."""
    form = spec.upload_form()
    problems: list[str] = []
    if form.validate_on_submit():
        upload = form.upload.data
        options = spec.options(True)
        try:
            # read from a temporary copy on disk, in chunks: the upload is never held whole
            with upload_on_disk(upload.stream, options.max_bytes, spec.error) as path, atomic():
                result = spec.run(options, path, upload.filename or None, None)
        except spec.error as exc:
            problems = problem_lines(exc)
        else:
            return redirect(preview(result.batch_id))
    return render_template(
        UPLOAD_TEMPLATE, form=form, problems=problems, title=title, columns_help=columns_help,
        back=back, campaign=campaign,
    )  # fmt: skip


def preview_page(spec: HistoryImport, batch_id: int, *, apply_url: str, back: str) -> Any:
    """What the dry run found (new, changed, unchanged rows) and the button that applies it."""
    batch = spec.batch(batch_id)
    form = spec.apply_form()
    return render_template(PREVIEW_TEMPLATE, batch=batch, form=form, apply_url=apply_url, back=back)


def apply_page(spec: HistoryImport, batch_id: int, *, here: str, done: str) -> Any:
    """Apply the upload a dry run kept; back to the preview with the problems if it is refused."""
    batch = spec.batch(batch_id)
    if not spec.apply_form().validate_on_submit() or batch.status != spec.dry_run_status:
        flash(_("The import could not be applied; start again."), "error")
        return redirect(here)
    options = spec.options(False)
    try:
        with atomic():
            result = spec.run(options, spec.stored(options, batch), batch.filename, batch)
    except spec.error as exc:
        for line in problem_lines(exc):
            flash(line, "error")
        return redirect(here)
    flash(
        _("Imported: %(new)s new, %(changed)s changed, %(same)s unchanged.", new=result.rows_new,
          changed=result.rows_changed, same=result.rows_unchanged),
        "success",
    )  # fmt: skip
    return redirect(done)
