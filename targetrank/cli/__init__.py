"""The ``targetrank`` command: a thin layer over the library.

Each command parses its options, calls one library function and renders the result. Results go
to stdout, progress and errors to stderr, so ``targetrank resolve ... --format csv > out.csv``
stays clean. Library errors carry their exit code (see :class:`targetrank.errors.ExitCode`).
"""

from targetrank.cli.main import main

__all__ = ["main"]
