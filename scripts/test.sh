#!/usr/bin/env bash
# The whole test suite, from a fresh machine: the Rust core (cargo fmt --check, cargo clippy
# with -D warnings, cargo test), the release artifacts (sdist, a wheel built from it, twine
# check, a fresh-venv install), lints and types (ruff, mypy, stubtest of the extension against
# its stub), the Python package (pytest),
# and the verl, TRL and OpenRLHF integrations against the real frameworks. verl and TRL pin
# different transformers versions, so each framework gets its own virtual environment.
#
#   bash scripts/test.sh           # everything (first run downloads torch, verl, trl: ~12 GB)
#   bash scripts/test.sh --quick   # Rust, release artifacts, lints and types, core Python tests
#
# Python: PATARM_PYTHON, else the `python3` (or `python`) on PATH, i.e. the active venv's;
# 3.10 or newer. Nothing is installed into it: the test venvs are made from it with uv (the uv
# on PATH, else one installed into a private bootstrap venv beside the test venvs).
# Venvs and built wheels live in PATARM_VENVS (default ${XDG_CACHE_HOME:-~/.cache}/patarm-test-venvs),
# outside the work tree; what the run writes inside it (target/) is ignored by git, and the run
# fails if it leaves any file git would see.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
QUICK=0
case "${1:-}" in
  "") ;;
  --quick) QUICK=1 ;;
  *) echo "usage: bash scripts/test.sh [--quick]" >&2; exit 2 ;;
esac

step() { printf '\n=== %s ===\n' "$*"; }
die() { echo "scripts/test.sh: $*" >&2; exit 2; }

# ---- the Python to test with ---------------------------------------------------------------
PY=${PATARM_PYTHON:-$(command -v python3 || command -v python || true)}
[ -n "$PY" ] || die "no python3 on PATH; set PATARM_PYTHON to a Python >= 3.10"
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null \
  || die "$PY is Python $("$PY" -c 'import platform; print(platform.python_version())' 2>/dev/null || echo '?'); the tests need >= 3.10: set PATARM_PYTHON"
PY=$("$PY" -c 'import sys; print(sys.executable)')  # the interpreter itself, not a shim or alias
PY_VERSION=$("$PY" -c 'import sys; print(sys.version.split()[0])')

VENVS=${PATARM_VENVS:-${XDG_CACHE_HOME:-$HOME/.cache}/patarm-test-venvs}
VENVS=$("$PY" -c 'import os, sys; print(os.path.abspath(sys.argv[1]))' "$VENVS")
case "$VENVS/" in
  "$ROOT"/*) git check-ignore -q "$VENVS" 2>/dev/null \
      || die "PATARM_VENVS=$VENVS is inside the work tree and not ignored by git; choose a folder outside it" ;;
esac
mkdir -p "$VENVS"
echo "Python $PY_VERSION ($PY); venvs in $VENVS"

# ---- uv: the one on PATH, or a private copy; never installed into the caller's Python --------
if command -v uv >/dev/null 2>&1; then
  UV=$(command -v uv)
else
  if [ ! -x "$VENVS/bootstrap/bin/uv" ]; then
    step "Bootstrap: uv into $VENVS/bootstrap (no uv on PATH)"
    "$PY" -m venv "$VENVS/bootstrap" || die "cannot create a venv with $PY (on Debian/Ubuntu: apt install python3-venv), or install uv"
    "$VENVS/bootstrap/bin/python" -m pip install -q uv
  fi
  UV=$VENVS/bootstrap/bin/uv
fi
export UV_LINK_MODE=${UV_LINK_MODE:-copy}
export UV_PYTHON_DOWNLOADS=never  # the venvs use $PY: never a downloaded interpreter

# A venv of $PY under $VENVS, reused while its Python is $PY's version.
ensure_venv() {
  local dir=$VENVS/$1
  if [ -x "$dir/bin/python" ] && [ "$("$dir/bin/python" -c 'import sys; print(sys.version.split()[0])')" = "$PY_VERSION" ]; then
    return
  fi
  if [ -e "$dir" ]; then
    [ -f "$dir/pyvenv.cfg" ] || die "$dir exists and is not a venv; move it or set PATARM_VENVS"
    rm -rf "$dir"
  fi
  "$UV" venv -q --python "$PY" "$dir"
}

# Files git would see (untracked and not ignored) before the run: the run must add none.
UNTRACKED_BEFORE=$(git ls-files --others --exclude-standard 2>/dev/null | sort || true)
check_work_tree() {
  local added
  added=$(comm -13 <(printf '%s\n' "$UNTRACKED_BEFORE") <(git ls-files --others --exclude-standard 2>/dev/null | sort) | sed '/^$/d')
  if [ -n "$added" ]; then
    echo "scripts/test.sh: the run left files that git does not ignore:" >&2
    echo "$added" >&2
    exit 1
  fi
}

step "Rust core: cargo fmt --check, cargo clippy (without and with the bindings), cargo test"
cargo fmt --check
cargo clippy --quiet --all-targets -- -D warnings
cargo clippy --quiet --all-targets --features python -- -D warnings
cargo test --quiet

step "Release artifacts: sdist, a wheel built from it (release, abi3), twine check"
DIST=$VENVS/dist
rm -rf "$DIST"
ensure_venv core
"$UV" pip install -q --python "$VENVS/core/bin/python" "maturin>=1.7,<2" twine
"$VENVS/core/bin/maturin" sdist --out "$DIST" >/dev/null
SDIST=$(ls "$DIST"/patarm-*.tar.gz)
# The wheel is built from the sdist, as pip would build it: so the sdist is known to be complete.
# Cargo builds in the work tree's (ignored) target/, so later runs reuse the compiled dependencies.
CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target} "$UV" build -q --wheel --python "$PY" --out-dir "$DIST" "$SDIST"
WHEEL=$(ls "$DIST"/patarm-*.whl)
"$VENVS/core/bin/python" -m twine check --strict "$SDIST" "$WHEEL"

step "Fresh venv: pip install patarm (no extras), then the README's commands"
rm -rf "$VENVS/fresh"
ensure_venv fresh
"$UV" pip install -q --python "$VENVS/fresh/bin/python" "$WHEEL"
SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT
"$VENVS/fresh/bin/patarm" --version
"$VENVS/fresh/bin/patarm" score >/dev/null
# The workflow writes parquet with the plain install (pyarrow is a core dependency).
"$VENVS/fresh/bin/patarm" prepare examples/workflow/pairs.jsonl -o "$SCRATCH/data/train.parquet" --quiet
# A missing extra is one line and exit code 2.
set +e
"$VENVS/fresh/bin/patarm" evaluate examples/workflow/rewardbench.jsonl --judge-url http://127.0.0.1:9/v1 \
  --model m 2>"$SCRATCH/err"
code=$?
set -e
[ "$code" = 2 ] && [ "$(wc -l <"$SCRATCH/err")" = 1 ] && grep -q "pip install 'patarm\[judge\]'" "$SCRATCH/err" \
  || { cat "$SCRATCH/err" >&2; die "evaluate --judge-url without httpx: expected one line and exit code 2, got $code"; }

step "Python package: the wheel and its test extras (core venv)"
"$UV" pip install -q --python "$VENVS/core/bin/python" --reinstall-package patarm "$WHEEL[test,plot,pandas,judge,docs]"
# rewardbench 0.1.4 with --no-deps: tests/test_rewardbench_scoring.py reads its scoring code
# (its package imports torch, so nothing of it is imported).
"$UV" pip install -q --python "$VENVS/core/bin/python" --no-deps "rewardbench==0.1.4"

step "Lints and types: ruff check, ruff format --check, mypy, stubtest (core venv)"
"$UV" pip install -q --python "$VENVS/core/bin/python" -r requirements/lint.txt
# Their caches live beside the venvs, not in the work tree. Config: pyproject.toml.
export RUFF_CACHE_DIR=$VENVS/cache/ruff MYPY_CACHE_DIR=$VENVS/cache/mypy
"$VENVS/core/bin/ruff" check python tests benches examples
"$VENVS/core/bin/ruff" format --check python tests benches examples
"$VENVS/core/bin/python" -m mypy python/patarm
# The stub against the extension of the installed wheel (built from this tree), which ships it.
"$VENVS/core/bin/python" -m mypy.stubtest patarm._core

step "Python package: pytest (core venv)"
# -p no:cacheprovider, no bytecode: pytest and Python write nothing into the work tree.
PYTHONDONTWRITEBYTECODE=1 "$VENVS/core/bin/python" -m pytest -q -p no:cacheprovider tests

if [ "$QUICK" = 1 ]; then check_work_tree; exit 0; fi

step "verl integration: pytest tests/verl_integration, plus the torch-only sampler and DataLoader-fork tests (verl 0.9.1 venv)"
ensure_venv verl
"$UV" pip install -q --python "$VENVS/verl/bin/python" -r requirements/verl.txt
"$UV" pip install -q --python "$VENVS/verl/bin/python" --reinstall-package patarm "$WHEEL[test]"
PATARM_REQUIRE_FRAMEWORKS=1 PYTHONDONTWRITEBYTECODE=1 "$VENVS/verl/bin/python" -m pytest -q -p no:cacheprovider \
  tests/verl_integration tests/test_sampler.py \
  tests/test_fork_safety.py::test_dataloader_fork_workers_while_threads_call_every_entry_point

step "TRL integration: pytest tests/trl_integration (TRL venv)"
ensure_venv trl
"$UV" pip install -q --python "$VENVS/trl/bin/python" -r requirements/trl.txt
"$UV" pip install -q --python "$VENVS/trl/bin/python" --reinstall-package patarm "$WHEEL[test]"
PATARM_REQUIRE_FRAMEWORKS=1 PYTHONDONTWRITEBYTECODE=1 "$VENVS/trl/bin/python" -m pytest -q -p no:cacheprovider tests/trl_integration

step "OpenRLHF integration: pytest tests/openrlhf_integration (OpenRLHF 0.11.2 venv, fake vLLM)"
ensure_venv openrlhf
# openrlhf's declared dependencies pin GPU builds (deepspeed, flash-attn): install it alone,
# then what the tested modules import.
"$UV" pip install -q --python "$VENVS/openrlhf/bin/python" --no-deps -r requirements/openrlhf-no-deps.txt
"$UV" pip install -q --python "$VENVS/openrlhf/bin/python" -r requirements/openrlhf.txt
"$UV" pip install -q --python "$VENVS/openrlhf/bin/python" --reinstall-package patarm "$WHEEL[test]"
PATARM_REQUIRE_FRAMEWORKS=1 PYTHONDONTWRITEBYTECODE=1 "$VENVS/openrlhf/bin/python" -m pytest -q -p no:cacheprovider \
  tests/openrlhf_integration

check_work_tree
