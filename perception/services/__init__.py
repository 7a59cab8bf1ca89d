"""Business operations, one module per phase. Functions take the session, flush, never commit."""
