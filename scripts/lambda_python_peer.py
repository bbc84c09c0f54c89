#!/usr/bin/env python3
"""The Python/boto3 peer of a support-sla Lambda function, for scripts/lambda-bench.sh.

Does what the Rust function does at init, the way a Python Lambda function would: build the
boto3 clients the function uses (DynamoDB, EventBridge Scheduler, SES v2 and Secrets Manager
for the engine functions; DynamoDB and Secrets Manager for read-api), read and parse the policy
file (POLICY_FILE, TOML), then ask the Lambda Runtime API for the first event
(GET /2018-06-01/runtime/invocation/next) and wait there, as the Python runtime's bootstrap
does. No AWS call is made at init: boto3 clients connect lazily, like the SDK's.

Usage: lambda_python_peer.py FUNCTION (started by scripts/lambda_runtime_stub.py --python).
"""

import os
import sys
import tomllib
import urllib.request

import boto3

# The SDK clients each Rust function builds at init (shared/lambda: the engine's store, timers
# and mailer; the secrets client in AWS, where the secrets are read at init).
ENGINE_CLIENTS = ("dynamodb", "scheduler", "sesv2", "secretsmanager")
CLIENTS = {"read-api": ("dynamodb", "secretsmanager")}


def init(function):
    session = boto3.session.Session()
    clients = {
        name: session.client(name) for name in CLIENTS.get(function, ENGINE_CLIENTS)
    }
    with open(os.environ["POLICY_FILE"], "rb") as policy_file:
        policy = tomllib.load(policy_file)
    if not policy:
        raise SystemExit("the policy file is empty")
    return clients, policy


def main():
    function = sys.argv[1]
    init(function)
    api = os.environ["AWS_LAMBDA_RUNTIME_API"]
    # Blocks until the stub ends the run; the stub stops the process by its PID.
    urllib.request.urlopen(
        f"http://{api}/2018-06-01/runtime/invocation/next", timeout=60
    ).read()


if __name__ == "__main__":
    main()
