"""Benchmarks of targetrank at real scale, on SYNTHETIC inputs in the real layouts.

Run ``python -m bench --quick`` (or ``--full``, ``--tiny``) from the repository root; see
``bench/README.md``. Every figure is printed with its ratio to a baseline measured in the same
run, because absolute times on a shared machine mean little.
"""
