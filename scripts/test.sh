#!/usr/bin/env bash
# Runs every check of the repository on this machine: format, lints, the template checks and
# all tests. Installs what it needs (Python tools in .venv-tools), starts moto server for the
# AWS adapters on 127.0.0.1, and stops it by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

# The tests against moto server live behind a `moto` feature in each crate that has them, so a
# plain `cargo test --workspace` passes without moto; here they are all turned on, and they fail
# (never skip) when moto is not reachable.
moto_crates=(aws zendesk-webhook intercom-webhook voicemail-webhook pagerduty-webhook escalate sweep read-api deliver supportctl)
moto_features=$(printf '%s/moto,' "${moto_crates[@]}")
moto_features=${moto_features%,}
# A crate with moto tests that is missing from the list would have them skipped here: refuse.
for manifest in shared/*/Cargo.toml functions/*/Cargo.toml supportctl/Cargo.toml tests/Cargo.toml; do
  grep -q 'required-features = \["moto"\]' "$manifest" || continue
  crate=$(sed -n 's/^name = "\(.*\)"/\1/p' "$manifest" | head -1)
  [[ " ${moto_crates[*]} " == *" $crate "* ]] || { echo "$manifest: moto tests not run by this script" >&2; exit 1; }
done

step "Python tools (moto server, cfn-lint, sam) in .venv-tools"
# boto3: the Python peer of scripts/lambda-bench.sh (the same pin there).
if [ ! -x .venv-tools/bin/moto_server ] || [ ! -x .venv-tools/bin/cfn-lint ] || [ ! -x .venv-tools/bin/sam ] \
  || ! .venv-tools/bin/python -c 'import boto3' 2>/dev/null; then
  python3 -m venv .venv-tools
  .venv-tools/bin/pip install -q --disable-pip-version-check \
    'moto[server]==5.2.5' 'cfn-lint==1.58.*' 'aws-sam-cli==1.170.*' 'boto3==1.43.108'
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked --features "$moto_features" -- -D warnings

if [ -f template.yaml ]; then
  step "template checks: cfn-lint and sam validate --lint (offline)"
  .venv-tools/bin/cfn-lint template.yaml
  AWS_DEFAULT_REGION=eu-central-1 SAM_CLI_TELEMETRY=0 .venv-tools/bin/sam validate --lint --template-file template.yaml
fi

mkdir -p target
step "moto server for the AWS adapters"
moto_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
.venv-tools/bin/moto_server -H 127.0.0.1 -p "$moto_port" > target/moto.log 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true' EXIT
moto_up=false
for _ in $(seq 1 100); do
  curl -sf -o /dev/null "http://127.0.0.1:$moto_port/moto-api/" && { moto_up=true; break; }
  sleep 0.2
done
$moto_up || { echo "moto server did not start (target/moto.log)" >&2; exit 1; }
export AWS_ENDPOINT_URL="http://127.0.0.1:$moto_port" AWS_REGION=eu-central-1 \
  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_EC2_METADATA_DISABLED=true

# The browser tests (tests/tests/web_pages.rs) drive headless Chromium and fail without it.
step "Chromium for the browser tests"
if [ -z "${CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -q
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
fi

step "cargo test (with the moto tests)"
cargo test --workspace --locked --features "$moto_features"

if [ -d functions ]; then
  # The `lambda` profile: release settings tuned for size (Cargo.toml), what scripts/lambda-bench.sh
  # measures and the README's `sam build` line uses.
  step "release build of the Lambda functions (x86_64, profile lambda)"
  functions=()
  for f in functions/*/; do functions+=("$(basename "$f")"); done
  cargo build --profile lambda --locked $(printf -- '-p %s ' "${functions[@]}")
  for f in "${functions[@]}"; do
    bytes=$(stat -c %s "${CARGO_TARGET_DIR:-target}/lambda/$f")
    printf '%-18s %10d bytes\n' "$f" "$bytes"
    [ "$bytes" -le 8000000 ] || { echo "$f is larger than 8,000,000 bytes" >&2; exit 1; }
  done
fi
