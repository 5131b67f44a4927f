"""Connectors: I/O only.

The modules here read upstream sources (local files of ``../shared``, the Open Targets API or
bulk downloads, the DepMap portal) and return raw or lightly typed polars frames, one job per
module: a source's transport (``*_client``), release discovery (``*_release``), readers, and the
one call its fetch step makes (``opentargets``, ``depmap``). No feature logic lives here, and
nothing here prints.
"""
