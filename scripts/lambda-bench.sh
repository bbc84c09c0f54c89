#!/usr/bin/env bash
# Builds the Lambda functions for x86_64 and measures what a cold start costs:
#   - the stripped binary's size (target: at most 8,000,000 bytes) and its highest GLIBC symbol
#     version (at most 2.34, the glibc of provided.al2023);
#   - init time: from starting the process to its first request to the Lambda Runtime API
#     (GET /2018-06-01/runtime/invocation/next), median of RUNS runs (target: at most 8 ms);
#   - the same for each function's Python/boto3 peer (scripts/lambda_python_peer.py: the same
#     SDK clients and the same policy file), measured side by side in the same run, and the
#     ratio of the medians (target: the binary at least 30 times faster).
#
# The Runtime API is a stand-in on 127.0.0.1 (scripts/lambda_runtime_stub.py) that records the
# first /next request and never hands out an event; each binary is started with the settings
# its function gets from template.yaml, the secrets given directly (in AWS one concurrent
# GetSecretValue round trip per secret is added) and AWS_ENDPOINT_URL pointing at a closed
# loopback port (the SDK clients connect lazily, so nothing is sent). Every process it starts
# is stopped by its PID. Nothing leaves the machine.
#
# The peer runs on .venv-tools/bin/python (boto3 pinned as in scripts/test.sh, installed here
# when missing); LAMBDA_PEER_PYTHON names another interpreter with boto3. Exits non-zero when a
# target is missed.
#
# Usage: scripts/lambda-bench.sh [RUNS]        (default 15 runs per function)
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${1:-15}
PROFILE=${LAMBDA_PROFILE:-lambda}
# One word per function: the crate under functions/ and its binary.
FUNCTIONS=(zendesk-webhook intercom-webhook voicemail-webhook pagerduty-webhook escalate sweep read-api deliver)
MAX_BYTES=8000000
# The boto3 of the peer; scripts/test.sh installs the same into .venv-tools.
BOTO3_PIN='boto3==1.43.108'

PEER_PYTHON=${LAMBDA_PEER_PYTHON:-.venv-tools/bin/python}
if ! "$PEER_PYTHON" -c 'import boto3' 2>/dev/null; then
  [ -n "${LAMBDA_PEER_PYTHON:-}" ] && { echo "LAMBDA_PEER_PYTHON=$PEER_PYTHON has no boto3" >&2; exit 1; }
  printf '==> %s into .venv-tools (the Python peer)\n' "$BOTO3_PIN"
  [ -x .venv-tools/bin/python ] || python3 -m venv .venv-tools
  .venv-tools/bin/pip install -q --disable-pip-version-check "$BOTO3_PIN"
fi

packages=()
for f in "${FUNCTIONS[@]}"; do packages+=(-p "$f"); done
printf '==> cargo build --profile %s %s (x86_64)\n' "$PROFILE" "${packages[*]}"
cargo build --locked --profile "$PROFILE" "${packages[@]}"

out_dir=target/$PROFILE
[ "$PROFILE" = dev ] && out_dir=target/debug

echo
printf '%-18s %10s %12s %10s\n' "function" "size" "bytes" "max GLIBC"
glibc_ok=1
size_ok=1
for f in "${FUNCTIONS[@]}"; do
  bin="$out_dir/$f"
  bytes=$(stat -c %s "$bin")
  glibc=$(objdump -T "$bin" | grep -o 'GLIBC_[0-9][0-9.]*' | sort -u -V | tail -n 1)
  printf '%-18s %6.2f MiB %12d %10s\n' "$f" "$(echo "$bytes / 1048576" | bc -l)" "$bytes" "$glibc"
  [ "$bytes" -le "$MAX_BYTES" ] || size_ok=0
  # provided.al2023 ships glibc 2.34.
  [ "$(printf '%s\n%s\n' "${glibc#GLIBC_}" 2.34 | sort -V | tail -n 1)" = 2.34 ] || glibc_ok=0
done

echo
status=0
python3 scripts/lambda_runtime_stub.py --runs "$RUNS" --bin-dir "$out_dir" \
  --policy-file infra/policy.toml --python "$PEER_PYTHON" "${FUNCTIONS[@]}" || status=$?

echo
[ "$size_ok" = 1 ] && echo "size: every binary is at most $MAX_BYTES bytes" || { echo "size: a binary exceeds $MAX_BYTES bytes"; status=1; }
[ "$glibc_ok" = 1 ] && echo "glibc: every binary needs at most GLIBC_2.34" || { echo "glibc: a binary needs a glibc newer than 2.34"; status=1; }
exit "$status"
