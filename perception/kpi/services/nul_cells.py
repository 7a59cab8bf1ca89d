"""A NUL character in a cell of an import file (``perception.core.nul``), for every import that
reads its file as Tables a chunk at a time (past weekly reports, callbacks and survey answers):
the problem of the cell's row and column, found before the chunk's rows are read. The ticket
import checks its text columns as it parses them (``ticket_parse``); the KPI value import holds
only codes and numbers, where a NUL is already an unknown code or not a number."""

from __future__ import annotations

from perception.core.nul import CODE, nul_rows
from perception.kpi.services.files import Table
from perception.kpi.services.messages import ProblemList, problem


def take_nul_cells(table: Table, problems: ProblemList) -> None:
    """Name every cell of the chunk that holds a NUL (its row, its column, its value) and take the
    character out of the cell: the file is refused, and nothing the import does with the row
    before it refuses the file (a source id staged, a ticket looked up by its id) sends one to the
    database."""
    for index, values in enumerate(table.columns):
        for i in nul_rows(values):
            problems.add(problem(table.row_no(i), table.header[index], values[i], CODE))
            values[i] = values[i].replace("\x00", "")
