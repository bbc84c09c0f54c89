#!/usr/bin/env python3
"""A Lambda Runtime API stand-in that measures init time, for scripts/lambda-bench.sh.

For each function binary and each run: start the binary with the environment Lambda and
template.yaml give it, and record the time from just before the process is started to its
first `GET /2018-06-01/runtime/invocation/next`. The request is never answered with an event;
the process is then stopped by its PID. Prints the median, min and max per function and exits
1 if a median exceeds the target (8 ms) or a run fails.

With --python PYTHON, the function's Python/boto3 peer (scripts/lambda_python_peer.py: the
same SDK clients and the same policy file) is started the same way, with the same environment,
against the same stub, its runs alternating with the binary's; the ratio of the medians must
be at least 30.

Loopback only: the server binds 127.0.0.1, and AWS_ENDPOINT_URL points at a closed port.
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TARGET_MS = 8.0
TARGET_RATIO = 30.0
PEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lambda_python_peer.py")
NEXT = "/2018-06-01/runtime/invocation/next"


class State:
    lock = threading.Lock()
    first_next = None  # perf_counter_ns of the first /next of the current run
    seen = threading.Event()
    release = threading.Event()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        now = time.perf_counter_ns()
        if self.path == NEXT:
            with State.lock:
                if State.first_next is None:
                    State.first_next = now
            State.seen.set()
            # Hold the long poll, as Lambda does between invocations, until the run ends.
            State.release.wait(timeout=10)
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        # /init/error, /invocation/<id>/error: an init failure ends the run.
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode(errors="replace")
        sys.stderr.write(f"runtime API: POST {self.path}: {body[:300]}\n")
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A stopped function drops its long-poll connection: expected, not worth a trace.
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed once the socket is


def environment(function, runtime_api, endpoint, policy_file):
    account, region = "123456789012", "eu-central-1"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        # What Lambda sets.
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "AWS_LAMBDA_FUNCTION_NAME": f"support-sla-{function}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/support-sla-{function}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/12/01/[$LATEST]bench",
        "AWS_LAMBDA_LOG_LEVEL": "INFO",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_SESSION_TOKEN": "bench",
        "AWS_EC2_METADATA_DISABLED": "true",
        "LAMBDA_TASK_ROOT": "/var/task",
        # A closed loopback port: clients connect lazily, nothing is sent at init.
        "AWS_ENDPOINT_URL": endpoint,
        # What template.yaml sets (Globals), with the secrets given directly.
        "TABLE_NAME": "support-sla-CasesTable-BENCH",
        "SCHEDULE_GROUP": "support-sla-timers",
        "ESCALATE_FUNCTION_ARN": f"arn:aws:lambda:{region}:{account}:function:support-sla-escalate",
        "SCHEDULER_ROLE_ARN": f"arn:aws:iam::{account}:role/support-sla-SchedulerInvokeRole",
        "SCHEDULER_DLQ_ARN": f"arn:aws:sqs:{region}:{account}:support-sla-SchedulerDeadLetterQueue",
        "SES_FROM_ADDRESS": "Acme Hosting Support <support@acme-hosting.example>",
        "SUPPORT_MAILBOX": "Acme Hosting Support <support@acme-hosting.example>",
        "PAGERDUTY_ROUTING_KEY": "R0UT1NGKEY0123456789abcdef012345",
        # The policy file is read and parsed at init, by the binary and by its Python peer.
        "POLICY_FILE": policy_file,
    }
    own = {
        "zendesk-webhook": {"ZENDESK_WEBHOOK_SECRET": "bench-zendesk-secret"},
        "intercom-webhook": {"INTERCOM_CLIENT_SECRET": "bench-intercom-secret"},
        "voicemail-webhook": {
            "TWILIO_AUTH_TOKEN": "bench-twilio-token",
            "PUBLIC_BASE_URL": "https://a1b2c3d4e5.execute-api.eu-central-1.amazonaws.com",
        },
        "pagerduty-webhook": {"PAGERDUTY_WEBHOOK_SECRET": "bench-pagerduty-webhook-secret"},
        "read-api": {"SUPPORT_SLA_READ_TOKEN": "bench-read-token-0123456789abcdef"},
        # deliver, escalate and sweep read the Globals above only.
    }
    env.update(own.get(function, {}))
    return env


def peak_rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def measure(command, env, timeout_s=10.0):
    with State.lock:
        State.first_next = None
    State.seen.clear()
    State.release.clear()
    started = time.perf_counter_ns()
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        if not State.seen.wait(timeout=timeout_s):
            process.kill()
            _, err = process.communicate(timeout=5)
            raise RuntimeError(
                f"{' '.join(command)} made no /next request within {timeout_s} s: {err.decode(errors='replace')[-500:]}"
            )
        with State.lock:
            elapsed_ms = (State.first_next - started) / 1e6
        rss = peak_rss_kib(process.pid)
        return elapsed_ms, rss
    finally:
        State.release.set()
        if process.poll() is None:
            process.kill()  # the process this run started, by its PID
        process.wait(timeout=5)
        if process.stderr:
            process.stderr.close()


def summary(runs):
    times = [t for t, _ in runs]
    rss = max((r for _, r in runs if r is not None), default=None)
    return statistics.median(times), min(times), max(times), rss


def row(name, runs):
    median, low, high, rss = summary(runs)
    rss_text = f"{rss / 1024:.1f} MB" if rss else "-"
    return f"{name:<26} {median:8.2f}ms {low:8.2f}ms {high:8.2f}ms {rss_text:>10}"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--policy-file", default="infra/policy.toml")
    parser.add_argument("--python", help="the Python (with boto3) that runs the peer")
    parser.add_argument("functions", nargs="+")
    args = parser.parse_args()
    if args.runs < 10:
        parser.error("at least 10 runs, for a meaningful median")
    policy_file = os.path.abspath(args.policy_file)

    server = QuietServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    runtime_api = f"127.0.0.1:{server.server_address[1]}"
    endpoint = f"http://127.0.0.1:{closed_port()}"

    print(f"init time: process start to first GET {NEXT}, {args.runs} runs each")
    print(f"{'function':<26} {'median':>10} {'min':>10} {'max':>10} {'peak RSS':>10}")
    ok = True
    medians = []
    for function in args.functions:
        binary = os.path.join(args.bin_dir, function)
        env = environment(function, runtime_api, endpoint, policy_file)
        commands = {"rust": [binary]}
        if args.python:
            commands["python"] = [args.python, PEER, function]
        try:
            for command in commands.values():
                measure(command, env)  # warm the page cache; not counted
            runs = {kind: [] for kind in commands}
            # Alternate, so that a busy moment of the machine weighs on both alike.
            for _ in range(args.runs):
                for kind, command in commands.items():
                    runs[kind].append(measure(command, env))
        except RuntimeError as error:
            print(f"{function:<26} FAILED: {error}")
            ok = False
            continue
        print(row(function, runs["rust"]))
        rust_median = summary(runs["rust"])[0]
        if rust_median > TARGET_MS:
            ok = False
        if args.python:
            python_median = summary(runs["python"])[0]
            ratio = python_median / rust_median
            print(row(f"  python/boto3 peer", runs["python"]) + f"   ratio {ratio:5.1f}x")
            medians.append((function, rust_median, python_median, ratio))
            if ratio < TARGET_RATIO:
                ok = False
    server.shutdown()
    if medians:
        print()
        print(f"{'function':<20} {'rust median':>12} {'python median':>14} {'ratio':>8}")
        for function, rust, python, ratio in medians:
            print(f"{function:<20} {rust:10.2f}ms {python:12.2f}ms {ratio:7.1f}x")
    targets = f"median at most {TARGET_MS:.0f} ms per function"
    if args.python:
        targets += f", at least {TARGET_RATIO:.0f}x faster than the Python/boto3 peer"
    print(f"target: {targets}: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
