"""The built-in instruments: YAML definitions shipped inside the package, loaded on demand.

- csat_transactional: CSAT after a closed request/incident, with "why" when the score is low
- nps_relationship: relationship NPS, the reason, and the six feedback dimensions
- six_dimension_feedback: the collection points' six-dimension feedback questionnaire
- servqual: the 22 SERVQUAL pairs (Parasuraman, Zeithaml & Berry 1988) plus 100-point importance
- phone_callback: the interviewer's phone-callback script
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from surveys.definition import load_definition
from surveys.model import Questionnaire

INSTRUMENT_NAMES: tuple[str, ...] = (
    "csat_transactional",
    "nps_relationship",
    "six_dimension_feedback",
    "servqual",
    "phone_callback",
)


def instrument_source(name: str) -> str:
    """The YAML text of a built-in instrument (KeyError for an unknown name)."""
    if name not in INSTRUMENT_NAMES:
        raise KeyError(name)
    return resources.files(__package__).joinpath(f"{name}.yaml").read_text(encoding="utf-8")


@cache
def load_instrument(name: str) -> Questionnaire:
    """One built-in instrument, parsed and validated (cached: a Questionnaire is immutable)."""
    return load_definition(instrument_source(name))


def builtin_instruments() -> dict[str, Questionnaire]:
    """Every built-in instrument by name."""
    return {name: load_instrument(name) for name in INSTRUMENT_NAMES}
