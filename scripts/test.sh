#!/usr/bin/env bash
# README command (2): set up, lint, then the default test tiers (unit, config, smoke,
# algorithm quality on the real NB-201 table). Slower tiers: scripts/test.sh -m slow
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Fashion-MNIST for its loader tests (Debian package; skipped by the tests where absent)
if [ ! -d /usr/share/datasets/fashion-mnist ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist) >/dev/null 2>&1 || true
fi
.venv/bin/ruff check common reproductions scripts tests
.venv/bin/nasrepro-leaderboard --check
export WANDB_MODE=offline WANDB_SILENT=true
.venv/bin/python -m pytest -q "$@"
