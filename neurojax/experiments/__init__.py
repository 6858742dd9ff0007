"""experiments subpackage (see the README for what it holds)."""
