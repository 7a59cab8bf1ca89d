"""The setup phase's operations: they take the session (and the settings and clock they need), flush,
and never commit."""
