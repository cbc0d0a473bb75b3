#!/usr/bin/env bash
# Kills a storing chat with SIGKILL many more times than the suite does (default 500) and checks
# the database after each kill. Usage: tests/soak/crash-soak.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/env
GEMMA_DESK_TEST_MODEL="$(models/fetch-test-model)"
export GEMMA_DESK_TEST_MODEL GEMMA_DESK_CRASH_RUNS="${1:-500}"
cargo test --release -p gemma-desk-cli --test cli crash -- --nocapture
