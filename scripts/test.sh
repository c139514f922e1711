#!/usr/bin/env bash
# The whole test suite, from a fresh machine: the Rust core (cargo test), the Python package
# (pytest), and the verl, TRL and OpenRLHF integrations against the real frameworks. verl and
# TRL pin different transformers versions, so each framework gets its own virtual environment.
#
#   bash scripts/test.sh           # everything (first run downloads torch, verl, trl: ~10 GB)
#   bash scripts/test.sh --quick   # Rust + core Python tests only
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENVS=${PATARM_VENVS:-$ROOT/.venvs}
QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1

step() { printf '\n=== %s ===\n' "$*"; }

command -v uv >/dev/null 2>&1 || python3 -m pip install -q uv
export UV_LINK_MODE=${UV_LINK_MODE:-copy}

step "Rust core: cargo test"
cargo test --quiet

step "Build the wheel (release, abi3)"
[ -x "$VENVS/core/bin/python" ] || uv venv -q --python 3.11 "$VENVS/core"
uv pip install -q --python "$VENVS/core/bin/python" "maturin>=1.7,<2"
rm -rf dist && "$VENVS/core/bin/maturin" build --release --quiet --out dist
WHEEL=$(ls dist/patarm-*.whl)

step "Python package: pytest (core venv)"
uv pip install -q --python "$VENVS/core/bin/python" --reinstall-package patarm "$WHEEL[test,plot,pandas,judge]"
# rewardbench 0.1.4 with --no-deps: tests/test_rewardbench_scoring.py reads its scoring code
# (its package imports torch, so nothing of it is imported).
uv pip install -q --python "$VENVS/core/bin/python" --no-deps "rewardbench==0.1.4"
"$VENVS/core/bin/python" -m pytest -q tests

if [ "$QUICK" = 1 ]; then exit 0; fi

step "verl integration: pytest tests/verl, plus the torch-only sampler tests (verl 0.9.1 venv)"
[ -x "$VENVS/verl/bin/python" ] || uv venv -q --python 3.11 "$VENVS/verl"
uv pip install -q --python "$VENVS/verl/bin/python" -r requirements/verl.txt
uv pip install -q --python "$VENVS/verl/bin/python" --reinstall-package patarm "$WHEEL[test]"
PATARM_REQUIRE_FRAMEWORKS=1 "$VENVS/verl/bin/python" -m pytest -q tests/verl tests/test_sampler.py

step "TRL integration: pytest tests/trl (TRL venv)"
[ -x "$VENVS/trl/bin/python" ] || uv venv -q --python 3.11 "$VENVS/trl"
uv pip install -q --python "$VENVS/trl/bin/python" -r requirements/trl.txt
uv pip install -q --python "$VENVS/trl/bin/python" --reinstall-package patarm "$WHEEL[test]"
PATARM_REQUIRE_FRAMEWORKS=1 "$VENVS/trl/bin/python" -m pytest -q tests/trl

step "OpenRLHF integration: pytest tests/openrlhf_integration (OpenRLHF 0.11.2 venv, fake vLLM)"
[ -x "$VENVS/openrlhf/bin/python" ] || uv venv -q --python 3.11 "$VENVS/openrlhf"
# openrlhf's declared dependencies pin GPU builds (deepspeed, flash-attn): install it alone,
# then what the tested modules import.
uv pip install -q --python "$VENVS/openrlhf/bin/python" --no-deps -r requirements/openrlhf-no-deps.txt
uv pip install -q --python "$VENVS/openrlhf/bin/python" -r requirements/openrlhf.txt
uv pip install -q --python "$VENVS/openrlhf/bin/python" --reinstall-package patarm "$WHEEL[test]"
PATARM_REQUIRE_FRAMEWORKS=1 "$VENVS/openrlhf/bin/python" -m pytest -q tests/openrlhf_integration
