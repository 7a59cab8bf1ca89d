"""The request's database session, typed as a plain SQLAlchemy Session for the services.

Kept for existing imports; the accessor lives in :mod:`perception.extensions`.
"""

from __future__ import annotations

from perception.extensions import orm

__all__ = ["orm"]
