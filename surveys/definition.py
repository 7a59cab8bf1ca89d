"""Loading a questionnaire definition (JSON, YAML or a dict) into a frozen `Questionnaire`.

`load_definition` checks everything it can in one pass and raises `DefinitionError` whose
`errors` name the path of each bad field, e.g. ``pages[1].questions[3].scale.max: must be greater
than min``. The format is described in surveys/README.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from surveys.definition_conditions import ConditionReader
from surveys.definition_reader import DefinitionError, DefinitionIssue, Reader, join
from surveys.definition_types import read_tags, read_totals, read_type_fields
from surveys.model import (
    SCALED_TYPES,
    SUPPORTED_SCHEMA_VERSIONS,
    Page,
    Question,
    Questionnaire,
    QuestionType,
)
from surveys.text import Message

_BASE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _DuplicateKey(yaml.constructor.ConstructorError):
    def __init__(self, key: object, mark: Any) -> None:
        super().__init__(None, None, f"duplicate key {key!r}", mark)
        self.key = key


class _StrictLoader(_BASE_LOADER):  # type: ignore[valid-type,misc]
    """YAML/JSON would silently keep the last of two equal keys (a second ``text:`` replacing the
    first); a definition with one is reported instead."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[object] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool):
                continue  # an unhashable key is reported by the mapping check that follows
            if key in seen:
                raise _DuplicateKey(key, key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


_TOP_KEYS = frozenset({"schema_version", "id", "version", "title", "description", "pages"})
_PAGE_KEYS = frozenset({"id", "title", "description", "show_if", "questions", "totals"})
_COMMON_KEYS = frozenset(
    {
        "id",
        "type",
        "text",
        "help",
        "required",
        "show_if",
        "feedback_dimension",
        "servqual_dimension",
        "standard_code",
    }
)
_TYPE_KEYS: dict[QuestionType, frozenset[str]] = {
    **{t: frozenset({"scale"}) for t in SCALED_TYPES},
    QuestionType.LIKERT_MATRIX: frozenset({"scale", "rows"}),
    QuestionType.SINGLE_CHOICE: frozenset({"choices", "other"}),
    QuestionType.MULTIPLE_CHOICE: frozenset({"choices", "other", "min_selected", "max_selected"}),
    QuestionType.TEXT: frozenset({"max_length", "multiline"}),
    QuestionType.NUMBER: frozenset({"min", "max", "integer", "unit"}),
    QuestionType.DATE: frozenset({"min", "max"}),
    QuestionType.CONSTANT_SUM: frozenset({"rows", "total", "unit"}),
}


def load_definition(source: str | bytes | Mapping[str, Any]) -> Questionnaire:
    """Parse and validate a definition given as JSON/YAML text or as an already-parsed mapping."""
    raw: object = source
    if isinstance(source, str | bytes):
        try:
            # YAML 1.1 is a superset of the JSON we write; libyaml's loader when PyYAML has it
            raw = yaml.load(source, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader)
        except _DuplicateKey as exc:
            mark = exc.problem_mark
            line, column = mark.line + 1, mark.column + 1
            message = Message(
                "duplicate_key",
                f"键 {exc.key!r} 重复（第 {line} 行，第 {column} 列）：同一层只能出现一次",
                f"duplicate key {exc.key!r} (line {line}, column {column}): a key may appear once per level",
            )
            raise DefinitionError([DefinitionIssue("", message)]) from exc
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
            problem = getattr(exc, "problem", None) or "syntax error"
            issue = DefinitionIssue("", _syntax_message(f"{problem}{where}"))
            raise DefinitionError([issue]) from exc
    reader = Reader()
    questionnaire = _questionnaire(reader, raw)
    if reader.issues or questionnaire is None:
        raise DefinitionError(reader.issues)
    return questionnaire


def _syntax_message(detail: str) -> Message:
    return Message("syntax", f"不是有效的 YAML/JSON：{detail}", f"not valid YAML/JSON: {detail}")


def _questionnaire(reader: Reader, raw: object) -> Questionnaire | None:
    top = reader.mapping(raw, "", _TOP_KEYS)
    if top is None:
        return None
    schema_version = reader.required(top, "schema_version", "")
    if schema_version is not None and schema_version not in SUPPORTED_SCHEMA_VERSIONS:
        supported = ", ".join(str(v) for v in sorted(SUPPORTED_SCHEMA_VERSIONS))
        reader.issue(
            "schema_version",
            "unsupported_schema",
            f"unsupported schema_version {schema_version!r} (supported: {supported})",
            f"不支持的 schema_version {schema_version!r}（支持：{supported}）",
        )
    qid = reader.identifier(top, "id", "")
    version = reader.required(top, "version", "")
    if version is not None and (
        isinstance(version, bool) or not isinstance(version, str | int) or version == ""
    ):
        reader.issue(
            "version", "bad_version", "must be a non-empty string or an integer", "必须是非空字符串或整数"
        )
        version = None
    title = reader.text(top, "title", "")
    description = reader.text(top, "description", "", required=False)
    raw_pages = reader.sequence(top, "pages", "", required=True)
    all_ids = _all_question_ids(raw_pages)
    conditions = ConditionReader(reader, all_ids)
    seen_pages: set[str] = set()
    pages = [
        _page(reader, conditions, raw_page, join("pages", i), seen_pages)
        for i, raw_page in enumerate(raw_pages)
    ]
    if reader.issues or qid is None or version is None or title is None:
        return None
    return Questionnaire(
        id=qid,
        version=str(version),
        title=title,
        description=description,
        pages=tuple(page for page in pages if page is not None),
    )


def _all_question_ids(raw_pages: list[Any]) -> set[str]:
    ids: set[str] = set()
    for raw_page in raw_pages:
        questions = raw_page.get("questions") if isinstance(raw_page, Mapping) else None
        for raw_question in questions if isinstance(questions, list) else []:
            if isinstance(raw_question, Mapping) and isinstance(raw_question.get("id"), str):
                ids.add(raw_question["id"])
    return ids


def _page(reader: Reader, conditions: ConditionReader, raw: object, path: str, seen: set[str]) -> Page | None:
    page = reader.mapping(raw, path, _PAGE_KEYS)
    if page is None:
        return None
    pid = reader.identifier(page, "id", path)
    if pid is not None:
        if pid in seen:
            reader.issue(
                join(path, "id"), "duplicate_id", f"duplicate page id {pid!r}", f"页面编号“{pid}”重复"
            )
        seen.add(pid)
    title = reader.text(page, "title", path, required=False)
    description = reader.text(page, "description", path, required=False)
    show_if = None
    if page.get("show_if") is not None:
        earlier = set(conditions.declared)  # a page condition reads only earlier pages
        show_if = conditions.read(page["show_if"], join(path, "show_if"), allowed_ids=earlier)
    questions = []
    for i, raw_question in enumerate(reader.sequence(page, "questions", path, required=True)):
        qpath = join(join(path, "questions"), i)
        question = _question(reader, conditions, raw_question, qpath)
        if question is not None:
            questions.append(question)
    totals = read_totals(reader, page, path, questions)
    if pid is None:
        return None
    return Page(
        id=pid,
        questions=tuple(questions),
        title=title,
        description=description,
        show_if=show_if,
        totals=totals,
    )


def _question(reader: Reader, conditions: ConditionReader, raw: object, path: str) -> Question | None:
    if not isinstance(raw, Mapping):
        reader.mapping(raw, path, _COMMON_KEYS)
        return None
    qtype = _question_type(reader, raw, path)
    allowed = _COMMON_KEYS | (_TYPE_KEYS.get(qtype, frozenset()) if qtype else frozenset(raw))
    if reader.mapping(raw, path, allowed) is None:
        return None
    qid = reader.identifier(raw, "id", path)
    if qid is not None and qid in conditions.declared:
        reader.issue(
            join(path, "id"), "duplicate_id", f"duplicate question id {qid!r}", f"题目编号“{qid}”重复"
        )
        qid = None
    text = reader.text(raw, "text", path)
    help_text = reader.text(raw, "help", path, required=False)
    required = reader.boolean(raw, "required", path, default=False)
    show_if = (
        conditions.read(raw["show_if"], join(path, "show_if")) if raw.get("show_if") is not None else None
    )
    tags = read_tags(reader, raw, path)
    if qid is not None:
        conditions.declared.add(qid)
    if qtype is None or qid is None or text is None:
        return None
    if qtype == QuestionType.SERVQUAL and tags.servqual_dimension is None and "servqual_dimension" not in raw:
        reader.issue(
            join(path, "servqual_dimension"),
            "required",
            "required for a servqual item",
            "SERVQUAL 题目必须指定维度",
        )
    before = len(reader.issues)
    question = Question(
        id=qid,
        type=qtype,
        text=text,
        help=help_text,
        required=required,
        show_if=show_if,
        tags=tags,
        **read_type_fields(reader, raw, path, qtype),
    )
    if len(reader.issues) != before:
        return None
    conditions.earlier[qid] = question
    return question


def _question_type(reader: Reader, raw: Mapping[str, Any], path: str) -> QuestionType | None:
    value = reader.required(raw, "type", path)
    if value is None:
        return None
    try:
        return QuestionType(value)
    except ValueError:
        names = ", ".join(t.value for t in QuestionType)
        reader.issue(join(path, "type"), "bad_type", f"must be one of {names}", f"必须是以下之一：{names}")
        return None
