"""Questionnaires in the database: surveys, their published (frozen) versions, the parsed cache.

Publishing stores the engine's canonical dump (``surveys.dump_definition``) and its fingerprint;
a published version is never changed. Republishing an unchanged definition returns the existing
version instead of a new number. Parsed questionnaires are cached per process by
(version id, fingerprint): a version is immutable, so the cache never goes stale.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from perception.core.errors import Problem
from perception.core.transaction import Db
from perception.surveys.models import Survey, SurveyVersion
from perception.surveys.services.errors import SurveyError
from surveys import (
    DefinitionError,
    Questionnaire,
    builtin_instruments,
    definition_fingerprint,
    dump_definition,
    load_definition,
)

CODE_MAX = 64


def questionnaire_of(version: SurveyVersion) -> Questionnaire:
    """The parsed questionnaire of a published version (cached)."""
    return questionnaire_from(version.id, version.fingerprint, version.definition)


def questionnaire_from(version_id: int, fingerprint: str, definition: Mapping[str, Any]) -> Questionnaire:
    """The same, from the raw columns (for queries that select columns, not objects)."""
    hit = _CACHE.get((version_id, fingerprint))
    if hit is not None:
        return hit
    questionnaire = load_definition(dict(definition))
    if len(_CACHE) > 512:
        _CACHE.clear()
    _CACHE[(version_id, fingerprint)] = questionnaire
    return questionnaire


_CACHE: dict[tuple[int, str], Questionnaire] = {}


def _definition_problems(error: DefinitionError) -> SurveyError:
    return SurveyError(
        Problem(
            f"definition.{issue.path}" if issue.path else "definition", issue.message.zh, issue.message.en
        )
        for issue in error.errors
    )


def parse_definition(source: str | bytes | Mapping[str, Any]) -> Questionnaire:
    """Load a definition (YAML/JSON text or a dict); problems name the path of each bad field."""
    try:
        return load_definition(source)
    except DefinitionError as exc:
        raise _definition_problems(exc) from None


def publish(
    session: Session,
    code: str,
    source: str | bytes | Mapping[str, Any] | Questionnaire,
    *,
    name_zh: str | None = None,
    name_en: str | None = None,
    instrument: str | None = None,
    user_id: int | None = None,
) -> SurveyVersion:
    """Publish (freeze) a definition as the next version of survey ``code``.

    The survey is created on first publication with the questionnaire's title as its name.
    Returns the latest version unchanged when its fingerprint equals the new definition's.
    """
    code = code.strip()
    if not code or len(code) > CODE_MAX:
        raise SurveyError.one(
            "code", f"代码须为 1 到 {CODE_MAX} 个字符", f"The code needs 1 to {CODE_MAX} characters."
        )
    questionnaire = source if isinstance(source, Questionnaire) else parse_definition(source)
    survey = session.scalar(select(Survey).where(Survey.code == code))
    if survey is None:
        survey = Survey(
            code=code,
            name_zh=(name_zh or questionnaire.title.zh)[:200],
            name_en=(name_en or questionnaire.title.en)[:200],
            instrument=instrument,
        )
        session.add(survey)
        session.flush()
    fingerprint = definition_fingerprint(questionnaire)
    latest = latest_version(session, survey.id)
    if latest is not None and latest.fingerprint == fingerprint:
        return latest
    number = (
        session.scalar(select(func.max(SurveyVersion.number)).where(SurveyVersion.survey_id == survey.id))
        or 0
    ) + 1
    version = SurveyVersion(
        survey_id=survey.id,
        number=number,
        definition=dump_definition(questionnaire),
        fingerprint=fingerprint,
        published_by_id=user_id,
    )
    session.add(version)
    session.flush()
    return version


def latest_version(session: Session, survey_id: int) -> SurveyVersion | None:
    return session.scalar(
        select(SurveyVersion)
        .where(SurveyVersion.survey_id == survey_id)
        .order_by(SurveyVersion.number.desc())
        .limit(1)
    )


def ensure_builtin_surveys(session: Session, user_id: int | None = None) -> dict[str, SurveyVersion]:
    """Publish every built-in instrument (idempotent); the survey code is the instrument name."""
    return {
        name: publish(session, name, questionnaire, instrument=name, user_id=user_id)
        for name, questionnaire in builtin_instruments().items()
    }


def versions_for_choice(session: Session) -> list[tuple[SurveyVersion, Survey]]:
    """Every published version with its survey, newest first within each survey."""
    rows = session.execute(
        select(SurveyVersion, Survey)
        .join(Survey, Survey.id == SurveyVersion.survey_id)
        .order_by(Survey.code, SurveyVersion.number.desc())
    ).all()
    return [(v, s) for v, s in rows]


def parsed(version_id: int, fingerprint: str) -> Questionnaire | None:
    """The questionnaire of a version if this process has parsed it already (no database read)."""
    return _CACHE.get((version_id, fingerprint))


def cached_questionnaire(session: Db, version_id: int, fingerprint: str) -> Questionnaire | None:
    """The questionnaire of a version named by id and fingerprint; reads the database only on a
    cache miss. None when no such version exists (e.g. a stale session cookie)."""
    hit = _CACHE.get((version_id, fingerprint))
    if hit is not None:
        return hit
    definition = session.scalar(
        select(SurveyVersion.definition).where(
            SurveyVersion.id == version_id, SurveyVersion.fingerprint == fingerprint
        )
    )
    if definition is None:
        return None
    return questionnaire_from(version_id, fingerprint, definition)


def version_fingerprint(session: Db, version_id: int) -> str | None:
    return session.scalar(select(SurveyVersion.fingerprint).where(SurveyVersion.id == version_id))
