"""Test support: loopback fakes of upstream services (Open Targets, DepMap) and generators of
SYNTHETIC data in the real layouts (never real results)."""
