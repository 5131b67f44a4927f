"""Steps: one module per command, each reading inputs, calling the lower layers, writing results.

The CLI (:mod:`targetrank.cli`) parses options and calls a step; a step never parses options and
never prints. See ARCHITECTURE.md for the layers and the import rule.
"""
