"""Downloads: `targetrank fetch depmap` against the DepMap portal fake, end to end.

What users rely on (the pooch/pip promise): corrupt bytes are refused, never cached; transient
failures are retried; an expired signed URL is re-listed once; a full disk or a read-only cache
is one actionable line; a corrupted cache entry is detected by its checksum and fetched again;
two processes filling one cache at once do not corrupt it. After any failure the previous
output is untouched and no partial file is left in the cache.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import polars as pl
import pytest
from reliability_checks import assert_failed, assert_succeeded, debris, tree

from targetrank.cli import main

pytestmark = pytest.mark.usefixtures("fast_depmap_cli")

REL = "DepMap Public 24Q4"
EFFECT = "CRISPRGeneEffect.csv"
PANEL = "TIGIT,DKK1,SPP1,TNFSF11"


def fetch(runner, portal, tmp_path, *extra, out="out", panel=True):
    args = [
        "fetch", "depmap", "--endpoint", portal.root, "--cache-dir", str(tmp_path / "cache"),
        "--out", str(tmp_path / out), "--release", "24Q4", "--no-expression",
    ]  # fmt: skip
    if panel:
        args += ["--targets", PANEL]
    return runner.invoke(main, [*args, *extra])


def cached(tmp_path, name=EFFECT) -> Path:
    return tmp_path / "cache" / "depmap" / "24Q4" / name


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


def cache_is_clean(tmp_path) -> None:
    """Only verified files in the cache: each matches the MD5 the portal lists, no debris."""
    folder = tmp_path / "cache" / "depmap"
    assert debris(folder) == []
    for path in folder.rglob("*.csv"):
        listed = {f: m for (r, f), m in _portal_md5.items() if r == REL}
        assert md5(path) == listed[path.name], f"{path.name} in the cache is corrupt"


_portal_md5: dict = {}


@pytest.fixture(autouse=True)
def _remember_md5(portal):
    _portal_md5.clear()
    _portal_md5.update(portal.md5)


# ------------------------------------------------------------------ corrupt and short bodies
def test_md5_mismatch_once_is_refused_then_fetched_again(runner, portal, tmp_path):
    portal.inject(EFFECT, "md5")
    assert_succeeded(fetch(runner, portal, tmp_path))
    assert portal.count("file", filename=EFFECT) == 2
    cache_is_clean(tmp_path)


def test_md5_mismatch_twice_exits_5_caches_nothing_and_keeps_the_old_output(
    runner, portal, tmp_path
):
    assert_succeeded(fetch(runner, portal, tmp_path, "--cache-dir", str(tmp_path / "first")))
    before = tree(tmp_path / "out")
    portal.inject(EFFECT, "md5", times=2)
    result = fetch(runner, portal, tmp_path)
    assert_failed(
        result, 5, f"{EFFECT} ({REL}) failed its MD5 check twice", portal.md5[(REL, EFFECT)]
    )
    assert "Signature" not in result.stderr  # the signed URL is a bearer link: never shown
    assert not cached(tmp_path).exists()
    cache_is_clean(tmp_path)
    assert tree(tmp_path / "out") == before


def test_truncated_body_is_retried_into_a_verified_file(runner, portal, tmp_path):
    portal.inject(EFFECT, "truncate", times=2)
    assert_succeeded(fetch(runner, portal, tmp_path))
    assert portal.count("file", filename=EFFECT) == 3
    cache_is_clean(tmp_path)


def test_truncated_every_time_exits_5_with_no_partial_file(runner, portal, tmp_path):
    portal.inject(EFFECT, "truncate", times=10)
    result = fetch(runner, portal, tmp_path)
    assert_failed(result, 5, f"Could not download {EFFECT} ({REL}) after 4 attempts", "rerun")
    assert not cached(tmp_path).exists() and not (tmp_path / "out").exists()
    cache_is_clean(tmp_path)


def test_permanent_server_error_exits_5_naming_the_file(runner, portal, tmp_path):
    portal.inject(EFFECT, "503", times=10)
    result = fetch(runner, portal, tmp_path)
    assert_failed(result, 5, f"Could not download {EFFECT} ({REL}) (HTTP 503) after 4 attempts")
    cache_is_clean(tmp_path)


# ------------------------------------------------------------------ expired signed URLs
def test_expired_signed_url_rereads_the_listing_once_and_succeeds(runner, portal, tmp_path):
    real_listing = portal.listing_csv

    def listing_then_expire():
        body = real_listing()
        if portal.count("listing") == 0:
            portal.expire_urls()  # every URL of this first listing has expired by download time
        return body

    portal.listing_csv = listing_then_expire
    assert_succeeded(fetch(runner, portal, tmp_path))
    assert portal.count("listing") == 2  # re-read once, not once per file
    statuses = [r.status for r in portal.requests if r.kind == "file" and r.method == "GET"]
    assert statuses.count(403) == statuses.count(200) == 4  # each file: expired URL, then fresh
    cache_is_clean(tmp_path)


def test_url_refused_even_after_rereading_exits_5(runner, portal, tmp_path):
    portal.inject(EFFECT, "403", times=2)
    result = fetch(runner, portal, tmp_path)
    assert_failed(result, 5, "(HTTP 403) even with a freshly listed URL", "browser")
    assert portal.count("listing") == 2
    cache_is_clean(tmp_path)


# ------------------------------------------------------------------ the cache folder
def break_download_midway(monkeypatch, error: BaseException) -> None:
    """The matrix download writes half of its first chunk, then ``error`` is raised."""
    import pooch

    real_call = pooch.HTTPDownloader.__call__

    class Breaking:
        def __init__(self, raw):
            self.raw = raw

        def write(self, chunk):
            self.raw.write(chunk[: len(chunk) // 2])
            raise error

        def __getattr__(self, name):
            return getattr(self.raw, name)

    def downloader(self, url, output_file, pooch_obj, check_only=False):
        if EFFECT not in url or check_only:
            return real_call(self, url, output_file, pooch_obj, check_only)
        with open(output_file, "w+b") as raw:  # noqa: PTH123
            return real_call(self, url, Breaking(raw), pooch_obj, check_only)

    monkeypatch.setattr(pooch.HTTPDownloader, "__call__", downloader)


def test_disk_full_mid_download_exits_7_and_leaves_no_partial_file(
    runner, portal, tmp_path, monkeypatch
):
    break_download_midway(monkeypatch, OSError(errno.ENOSPC, "No space left on device"))
    result = fetch(runner, portal, tmp_path)
    assert_failed(result, 7, f"Cannot write {EFFECT}", "No space left on device", "--cache-dir")
    assert not cached(tmp_path).exists() and not (tmp_path / "out").exists()
    cache_is_clean(tmp_path)  # the files finished before the disk filled up are intact


def test_ctrl_c_mid_download_exits_130_and_leaves_no_partial_file(
    runner, portal, tmp_path, monkeypatch
):
    break_download_midway(monkeypatch, KeyboardInterrupt())
    result = fetch(runner, portal, tmp_path)
    assert result.exit_code == 130
    assert result.stderr.strip() == "Interrupted; no partial output was kept."
    assert not cached(tmp_path).exists() and not (tmp_path / "out").exists()
    cache_is_clean(tmp_path)


def test_read_only_cache_folder_exits_7_naming_the_option(runner, portal, tmp_path, monkeypatch):
    # root ignores permission bits: simulate the refusal the OS gives an ordinary user
    real_makedirs = os.makedirs
    locked = tmp_path / "cache"

    def makedirs(path, *args, **kwargs):
        if Path(path).is_relative_to(locked):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_makedirs(path, *args, **kwargs)

    monkeypatch.setattr(os, "makedirs", makedirs)
    result = fetch(runner, portal, tmp_path)
    assert_failed(result, 7, "to the download cache", "Permission denied", "TARGETRANK_CACHE_DIR")
    assert not locked.exists() and not (tmp_path / "out").exists()


def test_corrupted_cached_file_is_detected_by_checksum_and_fetched_again(runner, portal, tmp_path):
    assert_succeeded(fetch(runner, portal, tmp_path))
    first = tree(tmp_path / "out")
    path = cached(tmp_path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x20  # one flipped bit, as a bad disk or an interrupted copy does
    path.write_bytes(bytes(data) + b"\n")
    gets = portal.count("file", filename=EFFECT)
    assert_succeeded(fetch(runner, portal, tmp_path, out="again"))
    assert portal.count("file", filename=EFFECT) == gets + 1  # re-downloaded
    cache_is_clean(tmp_path)
    assert pl.read_parquet(tmp_path / "again" / "depmap_features.parquet").equals(
        pl.read_parquet(tmp_path / "out" / "depmap_features.parquet")
    )
    assert tree(tmp_path / "out") == first


def test_corruption_that_keeps_size_and_mtime_is_still_caught(runner, portal, tmp_path):
    """An in-place edit that restores the modification time (cp -p, rsync -t, a backup
    restore) still changes the file's ctime, so the cache re-hashes it instead of trusting it."""
    assert_succeeded(fetch(runner, portal, tmp_path))
    path = cached(tmp_path)
    stat = path.stat()
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    with path.open("r+b") as handle:
        handle.write(bytes(data))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)
    gets = portal.count("file", filename=EFFECT)
    assert_succeeded(fetch(runner, portal, tmp_path, out="again"))
    assert portal.count("file", filename=EFFECT) == gets + 1
    cache_is_clean(tmp_path)


def test_truncated_parquet_copy_in_the_cache_falls_back_to_the_csv(runner, portal, tmp_path):
    from targetrank.sources.depmap_readers import wait_for_cache_writes

    assert_succeeded(fetch(runner, portal, tmp_path, out="full", panel=False))
    wait_for_cache_writes()
    parsed = sorted((cached(tmp_path).parent / "parsed").glob("*.parquet"))
    assert parsed
    for path in parsed:
        path.write_bytes(path.read_bytes()[:100])  # a crash while the copy was being written
    assert_succeeded(fetch(runner, portal, tmp_path, out="again", panel=False))
    assert pl.read_parquet(tmp_path / "again" / "depmap_features.parquet").equals(
        pl.read_parquet(tmp_path / "full" / "depmap_features.parquet")
    )


# ------------------------------------------------------------------ two processes, one cache
class RendezvousPortal:
    """Holds each GET of ``filename`` until ``parties`` requests for it have arrived, so that
    concurrent processes really download the same file into the same cache at the same time."""

    def __init__(self, portal, filename: str, parties: int = 2) -> None:
        self.barrier = threading.Barrier(parties, timeout=60)
        self.met = 0
        real = portal._handle

        def handle(h, *, head):
            if not head and h.path.split("?")[0].endswith("/" + filename):
                try:
                    self.barrier.wait()
                    self.met += 1
                except threading.BrokenBarrierError:
                    pass
            real(h, head=head)

        portal._handle = handle


def test_two_processes_filling_the_cache_at_once_do_not_corrupt_it(portal, tmp_path):
    meeting = RendezvousPortal(portal, EFFECT)
    cache = tmp_path / "cache"
    env = {**os.environ, "TARGETRANK_CACHE_DIR": str(cache)}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "targetrank",
                "fetch",
                "depmap",
                "--endpoint",
                portal.root,
                "--release",
                "24Q4",
                "--targets",
                PANEL,
                "--no-expression",
                "--out",
                str(tmp_path / f"out{i}"),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    for proc, (_stdout, stderr) in zip(procs, results, strict=True):
        assert proc.returncode == 0, stderr
    assert meeting.met == 2  # both downloads of the matrix were in flight together
    assert portal.count("file", filename=EFFECT) == 2
    cache_is_clean(tmp_path)
    sidecar = json.loads((cached(tmp_path).parent / f".{EFFECT}.verified.json").read_text())
    assert sidecar["md5"] == portal.md5[(REL, EFFECT)]
    tables = [pl.read_parquet(tmp_path / f"out{i}" / "depmap_features.parquet") for i in (0, 1)]
    assert tables[0].equals(tables[1]) and tables[0].height == 4
    # and the cache they built serves a third run without any download
    gets = portal.count("file", method=None)
    third = subprocess.run(
        [sys.executable, "-m", "targetrank", "fetch", "depmap", "--endpoint", portal.root,
         "--release", "24Q4", "--targets", PANEL, "--no-expression", "--out",
         str(tmp_path / "out2")],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert third.returncode == 0, third.stderr
    assert portal.count("file", method=None) == gets
