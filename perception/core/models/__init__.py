"""Tables every phase shares: the declarative base, users and roles, the organisation (regions,
collection points, customers, contacts), the audit log, scheduler slots and the experience facts
that the collecting phases write and analysis reads."""

from perception.core.models import audit, auth, base, facts, jobs, kept, org, webhooks  # noqa: F401  (register the tables)
