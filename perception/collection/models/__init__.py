"""The collection phase's tables, one module per group."""

from perception.collection.models import fieldwork, reports  # noqa: F401  (register the tables)
