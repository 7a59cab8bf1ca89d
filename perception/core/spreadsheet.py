"""Spreadsheet formula-injection protection, for every CSV and Excel export.

Text that a spreadsheet would evaluate (starting with = + - @, a tab or a carriage return) is
prefixed with a single quote so it is shown as text (OWASP "CSV Injection"). Other values pass
through unchanged, so numbers stay numbers.
"""

from __future__ import annotations

from typing import Any

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(DANGEROUS_PREFIXES):
        return "'" + value
    return value
