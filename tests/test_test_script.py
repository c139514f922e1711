"""scripts/test.sh refuses what it must not do before it builds or installs anything: an old
Python, an unknown option, venvs inside the work tree that git would see."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "test.sh"

pytestmark = pytest.mark.skipif(
    shutil.which("bash") is None or not SCRIPT.exists(), reason="needs bash and the repository"
)


def run(args=(), **env):
    environment = {**os.environ, **env}
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=60, env=environment)


def test_an_old_python_is_refused(tmp_path):
    fake = tmp_path / "python3.9"
    fake.write_text(
        '#!/bin/sh\ncase "$2" in *"(3, 10)"*) exit 1;; *python_version*) echo 3.9.18; exit 0;; esac\nexit 1\n'
    )
    fake.chmod(0o755)
    result = run(PATARM_PYTHON=str(fake), PATARM_VENVS=str(tmp_path / "venvs"))
    assert result.returncode == 2
    assert "is Python 3.9.18; the tests need >= 3.10: set PATARM_PYTHON" in result.stderr
    assert not (tmp_path / "venvs").exists()


def test_an_unknown_option_is_refused():
    result = run(["--fast"])
    assert result.returncode == 2 and "usage: bash scripts/test.sh [--quick]" in result.stderr


def test_venvs_inside_the_work_tree_must_be_ignored(tmp_path):
    if subprocess.run(["git", "-C", str(ROOT), "rev-parse"], capture_output=True).returncode != 0:
        pytest.skip("not a git checkout")
    inside = ROOT / "venvs-that-git-would-see"
    assert not inside.exists()
    result = run(PATARM_PYTHON=sys.executable, PATARM_VENVS=str(inside))
    assert result.returncode == 2 and "is inside the work tree and not ignored by git" in result.stderr
    assert not inside.exists()  # refused before anything was created
