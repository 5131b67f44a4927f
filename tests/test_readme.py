"""The README's promises: two Quick start commands, CI mirrors the test one, examples run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text("utf-8")


def section(title: str) -> str:
    start = README.index(f"## {title}")
    end = README.find("\n## ", start + 1)
    return README[start:end]


def test_quick_start_has_exactly_two_commands():
    blocks = re.findall(r"```bash\n(.*?)```", section("Quick start"), re.S)
    assert len(blocks) == 2
    install_and_rank, install_and_test = (b.strip() for b in blocks)
    assert "\n" not in install_and_rank and "\n" not in install_and_test
    assert install_and_rank.endswith("targetrank rank")
    assert '".[test]"' in install_and_test and install_and_test.endswith("python -m pytest")


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r'pip"? install --quiet "\.\[test\]"', ci)
    assert "-m pytest" in ci
    assert '"$status" -eq 5' in ci  # "no tests collected" is a failure


@pytest.mark.slow
def test_library_examples_run(tmp_path):
    """Every ```python block of the README runs as written (in a fresh process and folder)."""
    code = "\n\n".join(re.findall(r"```python\n(.*?)```", README, re.S))
    assert "targetrank.rank(" in code
    script = tmp_path / "readme_examples.py"
    script.write_text(code)
    result = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "outputs" / "my_panel" / "ranking.csv").is_file()
