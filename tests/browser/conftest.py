"""Browser tests share the `browser`, `page` and `artifacts` fixtures of tests/conftest.py."""
