"""The application for a pre-forking server, warmed before the fork (issue 19: the first request).

    gunicorn --preload -w 2 -k gthread --threads 4 -b 0.0.0.0:8000 perception.wsgi:app

With ``--preload`` gunicorn imports this module once in the master and forks the workers from
it: the app is created and warmed there (perception.web.warmup: heavy imports, the charts' fonts,
translations, templates; the database connections released before the fork), so no worker's
first request loads them. Configuration comes from the environment as for ``create_app()``.
"""

from __future__ import annotations

from perception import create_app
from perception.web.warmup import warm

app = create_app()
warm(app)
