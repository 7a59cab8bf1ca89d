"""The setup phase's tables, one module per group."""

from perception.setup.models import agreements, catalog, standards  # noqa: F401  (register the tables)
