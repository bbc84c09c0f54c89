#!/usr/bin/env python3
"""A Lambda Runtime API stand-in that measures init time, for scripts/lambda-bench.sh.

For each function binary and each run: start the binary with the environment Lambda and
template.yaml give it, and record the time from just before the process is started to its
first `GET /2018-06-01/runtime/invocation/next`. The request is never answered with an event;
the process is then stopped by its PID. Prints the median, min and max per function and exits
1 if a median exceeds the target (30 ms) or a run fails.

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

TARGET_MS = 30.0
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


def environment(function, runtime_api, endpoint):
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


def measure(binary, env, timeout_s=5.0):
    with State.lock:
        State.first_next = None
    State.seen.clear()
    State.release.clear()
    started = time.perf_counter_ns()
    process = subprocess.Popen(
        [binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        if not State.seen.wait(timeout=timeout_s):
            process.kill()
            _, err = process.communicate(timeout=5)
            raise RuntimeError(
                f"{binary} made no /next request within {timeout_s} s: {err.decode(errors='replace')[-500:]}"
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


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("functions", nargs="+")
    args = parser.parse_args()
    if args.runs < 10:
        parser.error("at least 10 runs, for a meaningful median")

    server = QuietServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    runtime_api = f"127.0.0.1:{server.server_address[1]}"
    endpoint = f"http://127.0.0.1:{closed_port()}"

    print(f"init time: process start to first GET {NEXT}, {args.runs} runs each")
    print(f"{'function':<18} {'median':>9} {'min':>9} {'max':>9} {'peak RSS':>10}")
    ok = True
    for function in args.functions:
        binary = os.path.join(args.bin_dir, function)
        env = environment(function, runtime_api, endpoint)
        try:
            measure(binary, env)  # warm the page cache; not counted
            runs = [measure(binary, env) for _ in range(args.runs)]
        except RuntimeError as error:
            print(f"{function:<18} FAILED: {error}")
            ok = False
            continue
        times = [t for t, _ in runs]
        rss = max((r for _, r in runs if r is not None), default=None)
        median = statistics.median(times)
        rss_text = f"{rss / 1024:.1f} MB" if rss else "-"
        print(
            f"{function:<18} {median:7.2f}ms {min(times):7.2f}ms {max(times):7.2f}ms {rss_text:>10}"
        )
        if median > TARGET_MS:
            ok = False
    server.shutdown()
    print(f"target: median at most {TARGET_MS:.0f} ms per function: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
