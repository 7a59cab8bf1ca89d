"""Outgoing email: SMTP in production, a folder of .eml files in instance/mail for development."""

from __future__ import annotations

import os
import smtplib
import ssl
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from perception.core.jobs import enqueue, job


def build_message(to: str, subject: str, text: str, html: str | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="perception")
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    return msg


def mail_folder() -> Path:
    return Path(current_app.instance_path) / "mail"


def deliver(msg: EmailMessage) -> None:
    cfg = current_app.config
    if cfg["MAIL_BACKEND"] == "smtp":
        with smtplib.SMTP(cfg["SMTP_HOST"], int(cfg["SMTP_PORT"]), timeout=30) as smtp:
            if cfg.get("SMTP_STARTTLS"):
                smtp.starttls(context=ssl.create_default_context())
            if cfg.get("SMTP_USERNAME"):
                smtp.login(cfg["SMTP_USERNAME"], cfg["SMTP_PASSWORD"] or "")
            smtp.send_message(msg)
        return
    folder = mail_folder()
    folder.mkdir(parents=True, exist_ok=True)
    # Written beside, then renamed (as Maildir's tmp/ to new/): whoever picks up *.eml (a test, a
    # developer's mail viewer) never reads a message half written. Seen in CI: an empty body.
    name = uuid.uuid4().hex
    partial = folder / f".{name}.partial"
    partial.write_bytes(bytes(msg))
    os.replace(partial, folder / f"{name}.eml")


@job("send_email")
def send_email_job(
    session: Session, to: str, subject: str, text: str, html: str | None = None, **_: Any
) -> None:
    deliver(build_message(to, subject, text, html))


def send_email(to: str, subject: str, text: str, html: str | None = None) -> None:
    """Queue an email (sent by the worker, or right away without Redis)."""
    enqueue("send_email", to=to, subject=subject, text=text, html=html)
