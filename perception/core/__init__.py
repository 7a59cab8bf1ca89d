"""The platform beneath the phases: the database session and the unit of work, the SQLite writer
queue, authorisation, audit, the error type, i18n, the organisation's clock, jobs, mail and
spreadsheet safety. Nothing here knows a phase; phases import core, never the other way round."""
