"""Connectors: I/O only.

Each module here reads one upstream source (a local file of ``../shared``, the Open Targets API or
bulk downloads, the DepMap portal) and returns raw or lightly typed polars frames. No feature logic
lives here, and nothing here prints.
"""
