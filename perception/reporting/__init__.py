"""Report rendering: CJK font choice, charts (PNG/SVG) and the PDF review-report builder.

Nothing here imports Flask or the database: callers pass plain data, so the same code
runs in a web request or a background job.
"""
