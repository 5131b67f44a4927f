"""Every environment variable targetrank reads, in one place.

This is the only module that reads ``os.environ`` (``tests/test_architecture.py`` checks it).
A command-line option wins over its variable; an empty value counts as unset.

============================== ================================================================
variable                       what it sets (default)
============================== ================================================================
``TARGETRANK_SHARED``          the folder of gathered source data, holding ``data/`` (``--shared``;
                               default ``../shared`` beside the checkout or the working folder)
``TARGETRANK_CACHE_DIR``       downloads, API responses and fitted models (``--cache-dir``;
                               default the per-user cache folder, ``~/.cache/targetrank``)
``TARGETRANK_SNAPSHOT``        a feature snapshot folder read instead of the embedded one
                               (``features/snapshot`` in a checkout, ``targetrank/_snapshot``
                               in a wheel)
``TARGETRANK_OT_ENDPOINT``     the Open Targets GraphQL endpoint (``--endpoint``; default the
                               public Platform API)
``TARGETRANK_DEPMAP_ENDPOINT`` the DepMap portal's file listing (``--endpoint``; default the
                               public portal)
``TARGETRANK_BENCH_DATA``      benchmarks only: where ``python -m bench`` generates its inputs
                               (default ``bench/_data``)
============================== ================================================================
"""

from __future__ import annotations

import os

ENV_SHARED = "TARGETRANK_SHARED"
ENV_CACHE = "TARGETRANK_CACHE_DIR"
ENV_SNAPSHOT = "TARGETRANK_SNAPSHOT"
ENV_OT_ENDPOINT = "TARGETRANK_OT_ENDPOINT"
ENV_DEPMAP_ENDPOINT = "TARGETRANK_DEPMAP_ENDPOINT"
ENV_BENCH_DATA = "TARGETRANK_BENCH_DATA"

#: The documented variables and what each sets (the table above, for code and help texts).
VARIABLES: dict[str, str] = {
    ENV_SHARED: "folder of gathered source data (holds data/)",
    ENV_CACHE: "downloads, API responses and fitted models",
    ENV_SNAPSHOT: "feature snapshot folder read instead of the embedded one",
    ENV_OT_ENDPOINT: "Open Targets GraphQL endpoint",
    ENV_DEPMAP_ENDPOINT: "DepMap portal file listing",
    ENV_BENCH_DATA: "benchmarks only: where generated inputs go",
}


def env(name: str) -> str | None:
    """The value of documented variable ``name``, or None when it is unset or empty.

    Raises:
        KeyError: ``name`` is not in :data:`VARIABLES` (document a variable before reading it).
    """
    if name not in VARIABLES:
        raise KeyError(f"{name} is not a documented targetrank variable (see targetrank.config)")
    return os.environ.get(name) or None


def env_origin(name: str) -> str:
    """`` (set by NAME=value)`` when ``name`` is set, else ``""``: errors name the variable.

    A path that came from an environment variable is invisible on the command line, so an error
    about it must say where it came from, or the user looks for a typo in the wrong place.
    """
    value = env(name)
    return f" (set by {name}={value})" if value else ""
