"""Test support: fakes of upstream services and synthetic-data generators (never real results)."""
