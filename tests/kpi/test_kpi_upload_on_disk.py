"""The upload path of an import (issue 19, bounded memory): the page read the whole upload into
bytes and the import held it while it read its rows. Now the upload is copied in blocks to a
temporary file and the import streams that path; the size limit still refuses a larger file
(413, both languages) and the copy is removed afterwards."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from perception.core.uploads import upload_on_disk
from perception.kpi.services.messages import KpiImportError
from tests.conftest import csrf_token
from tests.kpi.conftest import csv_bytes, ticket_row
from tests.upload_bombs import post_upload


def test_the_import_page_hands_the_import_a_path_not_the_files_bytes(
    login_as: Any, db_session: Any, catalog: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from perception.kpi.services import ticket_import
    from perception.kpi.views import imports

    seen: list[tuple[Any, bool]] = []
    real = ticket_import.import_tickets

    def spy(session: Any, options: Any, *, data: Any = None, **kw: Any) -> Any:
        seen.append((data, isinstance(data, Path) and data.is_file()))
        return real(session, options, data=data, **kw)

    monkeypatch.setattr(imports, "import_tickets", spy)
    client = login_as("analyst")
    data = csv_bytes([ticket_row(f"P-{i}") for i in range(3)])
    response = post_upload(
        client,
        "/kpi/import",
        {"kind": "tickets", "upload": (data, "t.csv")},
        csrf_token(client, "/kpi/import"),
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    ((path, existed),) = seen
    assert isinstance(path, Path) and existed and not path.exists()  # streamed, then removed


def test_a_copy_over_the_limit_is_refused_with_its_size_and_removed(tmp_path: Path) -> None:
    kept: list[Path] = []
    with pytest.raises(KpiImportError) as info, upload_on_disk(io.BytesIO(b"x" * 3_000_000), 2_000_000,
                                                               KpiImportError) as path:  # fmt: skip
        kept.append(path)
    (problem,) = info.value.problems
    assert info.value.status == 413 and problem.code == "too_large"
    assert "2.9 MB" in problem.text("en") and "1.9 MB" in problem.text("en") and "上限" in problem.text("zh")
    assert kept == []


def test_a_copy_within_the_limit_is_the_uploads_bytes(tmp_path: Path) -> None:
    with upload_on_disk(io.BytesIO(b"id,service\n1,DESK\n"), 1024, KpiImportError) as path:
        assert path.read_bytes() == b"id,service\n1,DESK\n"
    assert not path.exists()
