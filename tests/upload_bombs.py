"""Hostile uploads as an outside probe builds them: small workbooks that unpack to a million rows,
CSV files with Excel for Mac's bare-CR line endings, GBK text. Shared by the tests and by
``bench/security_probe.py``.

A workbook is a real .xlsx (openpyxl writes the package) whose first sheet is replaced by
generated XML, streamed into the zip so building a million-row bomb needs no memory.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator, Sequence

_SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_SHEET_TAIL = b"</sheetData></worksheet>"


def _inline_row(values: Sequence[object]) -> bytes:
    """A row without cell references (optional in SpreadsheetML), so identical rows compress
    to almost nothing, as in the probe's bombs."""
    if all(value is None for value in values):
        return b"<row/>"
    cells = []
    for value in values:
        if isinstance(value, int | float):
            cells.append(f"<c><v>{value}</v></c>")
        else:
            text = str(value).replace("&", "&amp;").replace("<", "&lt;")
            cells.append(f'<c t="inlineStr"><is><t>{text}</t></is></c>')
    return f"<row>{''.join(cells)}</row>".encode()


def workbook(header: Sequence[str], rows: Iterator[Sequence[object]], blank_rows: int = 0) -> bytes:
    """An .xlsx whose first sheet holds ``header``, then ``rows``, then ``blank_rows`` empty rows."""
    from openpyxl import Workbook

    base = io.BytesIO()
    Workbook().save(base)
    out = io.BytesIO()
    with zipfile.ZipFile(base) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                dst.writestr(item, src.read(item))
                continue
            with dst.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
                sheet.write(_SHEET_HEAD)
                sheet.write(_inline_row(header))
                buf: list[bytes] = []
                for values in rows:
                    buf.append(_inline_row(values))
                    if len(buf) >= 10_000:
                        sheet.write(b"".join(buf))
                        buf.clear()
                for _ in range(blank_rows):
                    buf.append(b"<row/>")
                    if len(buf) >= 10_000:
                        sheet.write(b"".join(buf))
                        buf.clear()
                sheet.write(b"".join(buf))
                sheet.write(_SHEET_TAIL)
    return out.getvalue()


TICKET_HEADER = ("id", "service", "customer", "priority", "opened", "status")


def million_row_workbook(n: int = 1_000_000) -> bytes:
    """The probe's 324 KB workbook: ``n`` identical ticket rows."""
    row = ("B-1", "DESK", "R1-C", "P3", "2026-03-02 09:00", "open")
    return workbook(TICKET_HEADER, (row for _ in range(n)))


def empty_rows_workbook(n: int = 3_000_000) -> bytes:
    """The probe's 69 KB workbook: a header and ``n`` empty rows."""
    return workbook(TICKET_HEADER, iter(()), blank_rows=n)


def mac_csv(lines: Sequence[str], encoding: str = "utf-8") -> bytes:
    """CSV as Excel for Mac's "CSV (Macintosh)" writes it: lines ended by a bare carriage return."""
    return "\r".join(lines).encode(encoding) + b"\r"


def post_upload(client: object, path: str, fields: dict[str, object], token: str, **kw: object) -> object:
    """POST a multipart form from memory. The test client spools a body over 500 KB to a
    temporary file it never closes (a ResourceWarning in a later test); production reads the
    browser's stream, so building the body here changes nothing the server sees."""
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    values: dict[str, object] = {"csrf_token": token}
    for name, value in fields.items():
        if isinstance(value, tuple):
            data, filename = value
            values[name] = FileStorage(io.BytesIO(data), filename=filename)
        else:
            values[name] = value
    boundary, body = encode_multipart(values)
    return client.post(  # type: ignore[attr-defined]
        path, data=body, content_type=f"multipart/form-data; boundary={boundary}", **kw
    )
