#!/usr/bin/env python3
"""dkimdash at fleet size, measured over real HTTP against the release build.

For each size (default 10,000 and 100,000 identities: targets of 10,000 identities each,
in different regions of `dkimdash simulator`, every DKIM status and some BYODKIM), it
starts the simulator and a dashboard reading it, and prints:
- the first sweep's SES calls per target against the batched bound (ListEmailIdentities
  per 1,000 + GetIdentityDkimAttributes per 100), and what they take at SES's real limit
  of one call a second per target, the targets read in parallel;
- the server's RSS once ready and after the load below (and its peak);
- requests a second, p50 and p99 under concurrent connections (wrk) for the overview, table
  pages with filters and sorts, an identity page, and a static file of the same server,
  with the overview's ratio to the static file;
- the overview and table pages again with every request's URL made unique, so each is
  rendered (the server keeps a rendered home page for the same URL and user within its
  second), under the same connections and with one connection (one operator paging
  through views: target p99 <= 20 ms);
- a zone and a JSON export of every identity: first byte, total time, size, and the
  server's highest RSS while it was written (streamed: it should not grow with the export);
- the history's rows after the first sweep, and what a second sweep that changed nothing
  wrote;
- `/metrics` with `--metrics-per-identity` (a series per identity): time and size;
- the history recorder's and the alert engine's time per round, from the server's log;
- with DNS checks on (the default; `--no-dns` turns them off): every domain's records
  served right by the simulator (`dkimdash simulator --serve-dns`), how long the first
  check of every identity took and what it found, and the RSS once every identity has a
  DNS report.

Run: scripts/bench-fleet.py [--binary PATH] [--sizes 10000,100000] [--seconds 10]
     [--connections 50] [--no-dns]
Needs the release build (cargo leptos build --release) and wrk, which it installs from
Debian's packages when it is missing (as root).
Figures vary with the machine: compare ratios, and runs on one machine.
"""

import argparse
import json
import math
import os
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

REGIONS = ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1",
           "eu-west-2", "eu-central-1", "ap-southeast-1", "ap-southeast-2", "ap-northeast-1"]
PER_TARGET = 10_000
# Of each target's identities: how many in each status (bulk Easy DKIM domains).
STATUS_SHARES = [("SUCCESS", 0.60), ("PENDING", 0.15), ("FAILED", 0.10),
                 ("TEMPORARY_FAILURE", 0.10), ("NOT_STARTED", 0.05)]
BYODKIM_PER_TARGET = 20
SIM_PORT, DASH_PORT = 45681, 45680
# The simulator's DNS (--serve-dns): the nameservers on this port, the resolver on the next.
DNS_PORT = 45682
# How long the server is left without requests before its RSS is read again: what it gives
# back once the load is over.
QUIET_SECONDS = 30


def options():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    target_dir = os.environ.get("CARGO_TARGET_DIR", "target")
    parser.add_argument("--binary", default=os.environ.get("DKIMDASH_BIN", f"{target_dir}/release/dkimdash"))
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--no-dns", action="store_true", help="DNS checks off")
    # SES's real limit is 1: the first sweep's time is measured at it. DNS checks wait
    # for each identity's details, which the backfill reads at that pace (at 100,000
    # identities, hours): a higher one lets the DNS figures be measured in minutes.
    parser.add_argument("--ses-calls-per-second", type=int, default=1)
    parser.add_argument("--hold", action="store_true",
                        help="once ready and quiet, keep both servers running (for a profiler) until interrupted")
    return parser.parse_args()


def request(url, method="GET", body=None, headers=None, timeout=600):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    started = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            first = response.read(1)
            first_byte = time.monotonic() - started
            rest = response.read()
            return response.status, first + rest, first_byte, time.monotonic() - started
    except urllib.error.HTTPError as error:
        return error.code, error.read(), 0.0, time.monotonic() - started


def wait_for(url, seconds, process):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"bench-fleet: {process.args[0]} stopped (exit {process.returncode})")
        try:
            if request(url, timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit(f"bench-fleet: {url} did not answer 200 within {seconds} s")


def byodkim_key():
    pem = subprocess.run(["openssl", "genrsa", "-traditional", "2048"], check=True,
                         capture_output=True, text=True).stdout
    return "".join(line for line in pem.splitlines() if not line.startswith("-----"))


def populate(sim, regions):
    key = byodkim_key()
    for region in regions:
        left = PER_TARGET - BYODKIM_PER_TARGET
        for i, (status, share) in enumerate(STATUS_SHARES):
            count = left if i == len(STATUS_SHARES) - 1 else round(PER_TARGET * share)
            left -= count
            prefix = status.lower().replace("_", "-")
            status_code = request(f"{sim}/_sim/regions/{region}/bulk", "POST",
                                  {"count": count, "prefix": prefix, "status": status})[0]
            assert status_code == 201, f"bulk {region} {status}: {status_code}"
        # The simulator reads the region from the SigV4 credential scope; it checks no signature.
        scope = {"Authorization": f"AWS4-HMAC-SHA256 Credential=AKIDBENCH/20261207/{region}/ses/aws4_request, SignedHeaders=host, Signature=0"}
        for n in range(BYODKIM_PER_TARGET):
            body = {"EmailIdentity": f"byodkim-{n:03}.example",
                    "DkimSigningAttributes": {"DomainSigningSelector": "bench",
                                              "DomainSigningPrivateKey": key}}
            status_code = request(f"{sim}/v2/email/identities", "POST", body, scope)[0]
            assert status_code == 200, f"BYODKIM identity in {region}: {status_code}"


def dns_flags():
    """The DNS checker asks the simulator's DNS, as fast as it answers: every nameserver is
    on loopback, so the polite per-server rate would take hours at this size."""
    return ["--dns-resolver", f"127.0.0.1:{DNS_PORT + 1}", "--dns-nameserver-port", str(DNS_PORT),
            "--dns-allow-nameservers", "127.0.0.0/8", "--dns-queries-per-second", "5000",
            "--dns-resolver-queries-per-second", "5000", "--dns-concurrency", "256"]


def wait_for_log(path, line, seconds, process):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with open(path) as f:
            if line in f.read():
                return
        if process.poll() is not None:
            sys.exit(f"bench-fleet: the simulator stopped (see {path})")
        time.sleep(1)
    sys.exit(f"bench-fleet: no \"{line}\" in {path} after {seconds} s")


def dns_records(dash_url):
    """What the DNS checks found so far, per finding, from /metrics."""
    found = {}
    for line in request(dash_url + "/metrics")[1].decode().splitlines():
        if line.startswith("dkimdash_dns_records{"):
            finding = re.search(r'finding="([^"]*)"', line).group(1)
            found[finding] = found.get(finding, 0) + int(float(line.rsplit(" ", 1)[1]))
    return found


def dns_checked(dash_url, process, seconds):
    """Waits until the DNS checks' count of records stops growing (every identity checked
    once): seconds taken, records, and the count per finding."""
    started = time.monotonic()
    last, still = -1, 0
    while time.monotonic() - started < seconds:
        if process.poll() is not None:
            sys.exit("bench-fleet: the dashboard stopped")
        found = dns_records(dash_url)
        total = sum(found.values())
        still = still + 1 if total == last and total > 0 else 0
        if still == 3:
            return time.monotonic() - started - 30, total, found
        last = total
        time.sleep(10)
    sys.exit(f"bench-fleet: the DNS checks had not settled after {seconds} s")


def rss_mb(pid):
    fields = process_status(pid)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def process_status(pid):
    return dict(line.split(":", 1) for line in open(f"/proc/{pid}/status"))


# Each request's URL made unique (a counter and a random number in an extra parameter):
# every one is rendered, none served from the pages the server keeps.
UNIQUE_LUA = """
counter = 0
request = function()
  counter = counter + 1
  local sep = string.find(wrk.path, "?", 1, true) and "&" or "?"
  return wrk.format(nil, wrk.path .. sep .. "n=" .. counter .. "-" .. math.random(1000000000))
end
"""


def wrk(url, seconds, connections, unique=False, errors_expected=False):
    # A long timeout: a slow answer is measured, not dropped from the latencies.
    command = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--timeout", "60s",
               "--latency"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        if unique:
            script.write(UNIQUE_LUA)
            script.flush()
            command += ["-s", script.name]
        out = subprocess.run(command + [url], check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    def latency(percentile):
        value, unit = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors and not errors_expected:
        sys.exit(f"bench-fleet: {url} answered {errors.group(1)} errors under load")
    return rps, latency(50), latency(99)


def highest_rss_during(pid, action):
    """action()'s result, and the server's highest RSS (MB) while it ran."""
    highest, done = [rss_mb(pid)[0]], threading.Event()

    def sample():
        while not done.is_set():
            highest[0] = max(highest[0], rss_mb(pid)[0])
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        return action(), highest[0]
    finally:
        done.set()
        sampler.join()


def timings(log_path, message):
    """elapsed_ms of every log line saying `message` (the server logs JSON)."""
    found = []
    with open(log_path) as log:
        for line in log:
            if message not in line:
                continue
            try:
                event = json.loads(line)
            except ValueError:
                continue
            # The server writes an event's fields beside its message.
            fields = event.get("fields", event)
            if fields.get("message") == message:
                found.append((fields.get("identities", 0), float(fields["elapsed_ms"])))
    return found


def summarize(label, found, size):
    at_size = sorted(ms for n, ms in found if n == size)
    if not at_size:
        print(f"{label}: no round over all {size:,} identities logged")
        return
    print(f"{label}: {len(at_size)} rounds over {size:,} identities, median "
          f"{at_size[len(at_size) // 2]:.0f} ms, longest {at_size[-1]:.0f} ms")


def history_rows(db):
    """(identity_state rows, identity_history rows): what the recorder keeps and what it logs."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return tuple(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                     for table in ("identity_state", "identity_history"))


def settled_history(db, seconds=120):
    """The history's rows once the recorder has written the last read (they stop growing)."""
    deadline, last = time.monotonic() + seconds, None
    while time.monotonic() < deadline:
        rows = history_rows(db)
        if rows == last and rows[0] > 0:
            return rows
        last = rows
        time.sleep(3)
    return last


def run_size(args, size, work):
    targets = max(1, size // PER_TARGET)
    regions = REGIONS[:targets]
    sim_url, dash_url = f"http://127.0.0.1:{SIM_PORT}", f"http://127.0.0.1:{DASH_PORT}"
    log_path = os.path.join(work, f"logs-{size}.txt")
    logs = open(log_path, "w")
    processes = []
    try:
        dns = not args.no_dns
        sim = subprocess.Popen([args.binary, "simulator", "--listen", f"127.0.0.1:{SIM_PORT}",
                                "--no-seed", "--calls-per-second", "0"]
                               + (["--serve-dns", str(DNS_PORT)] if dns else []),
                               stdout=logs, stderr=logs)
        processes.append(sim)
        wait_for(f"{sim_url}/_sim/health", 30, sim)
        populate(sim_url, regions)
        if dns:
            wait_for_log(log_path, f"DNS: serving the records of {size} identities", 600, sim)
        request(f"{sim_url}/_sim/stats/reset", "POST")
        targets_file = os.path.join(work, f"targets-{size}.toml")
        with open(targets_file, "w") as f:
            for region in regions:
                f.write(f'[[target]]\naccount = "bench"\nregion = "{region}"\nendpoint_url = "{sim_url}"\n\n')
        db = os.path.join(work, f"audit-{size}.sqlite3")
        env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDBENCH", AWS_SECRET_ACCESS_KEY="bench",
                   RUST_LOG="warn,dkimdash::alerts::engine=debug,dkimdash::history::recorder=debug",
                   DKIMDASH_LOG_FORMAT="json")
        started = time.monotonic()
        # At SES's real limit, one call a second per target: the first sweep takes what it
        # takes there, and the details backfill then goes on in the background as it would
        # for hours at this size (pages are measured while it runs).
        dash = subprocess.Popen([args.binary, "--listen", f"127.0.0.1:{DASH_PORT}", "--ses", "aws",
                                 "--targets-file", targets_file, "--audit-db", db,
                                 "--ses-calls-per-second", str(args.ses_calls_per_second), "--refresh-interval-secs", "300",
                                 "--metrics-per-identity"] + (dns_flags() if dns else ["--no-dns-checks"]),
                                env=env, stdout=logs, stderr=logs)
        processes.append(dash)
        wait_for(f"{dash_url}/readyz", 900, dash)
        ready_after = time.monotonic() - started
        calls = json.loads(request(f"{sim_url}/_sim/stats")[1])["calls"]
        per_target = PER_TARGET
        bound = math.ceil(per_target / 1000) + math.ceil(per_target / 100)
        sweep_ops = ("ListEmailIdentities", "GetIdentityDkimAttributes")
        sweep_calls = sum(v for k, v in flatten(calls) if any(op in k for op in sweep_ops))
        details = sum(v for k, v in flatten(calls) if "GetEmailIdentity" in k)
        rss_ready, _ = rss_mb(dash.pid)
        recorded = time.monotonic()
        rows_first = settled_history(db)
        recorded = time.monotonic() - recorded

        print(f"\n== {size:,} identities: {targets} target(s) of {per_target:,} ==")
        print(f"first sweep: {sweep_calls / targets:.0f} SES calls per target (batched bound {bound}, "
              f"{sweep_calls / targets / bound:.2f} x); ready after {ready_after:.0f} s at {args.ses_calls_per_second} call(s)/s per target, "
              f"in parallel (GetEmailIdentity by then: {details:,}; the details backfill goes on)")
        print(f"RSS once ready: {rss_ready:.0f} MB")
        print(f"history after the first sweep: {rows_first[0]:,} state rows, {rows_first[1]:,} change rows "
              f"(settled {recorded:.0f} s after ready)")
        if dns:
            checked_after, records, found = dns_checked(dash_url, dash, 3600)
            print(f"DNS: every identity checked {checked_after:.0f} s after ready, {records:,} records "
                  f"({', '.join(f'{name} {n:,}' for name, n in sorted(found.items()))}); "
                  f"RSS {rss_mb(dash.pid)[0]:.0f} MB")
        if args.hold:
            print(f"holding: dashboard {dash_url} (pid {dash.pid}), simulator {sim_url}; Ctrl-C ends", flush=True)
            try:
                dash.wait()
            except KeyboardInterrupt:
                pass
            return
        print(f"\n{'under ' + str(args.connections) + ' connections, ' + str(args.seconds) + ' s each':<58}"
              f"{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'RSS MB':>9}")
        name = "pending-00042.example"
        pages = [("static file (/favicon.svg)", "/favicon.svg"),
                 ("overview (/)", "/"),
                 ("table: FAILED, by name, page 3", "/?status=FAILED&sort=name&page=3"),
                 ("table: search 'tempor', by status desc", "/?q=tempor&sort=status&dir=desc"),
                 (f"table: {regions[-1]}, by key generated, page 20", f"/?region={regions[-1]}&sort=keygen&page=20"),
                 ("identity page", f"/identity/{regions[0]}/{name}"),
                 # The floor of any server-rendered page here: the shell, header and
                 # footer, no inventory.
                 ("page not found (404, no inventory)", "/no-such-page")]
        # Its details read once first, as the first visitor's request does (an identity
        # without details is read from SES, at the target's one call a second).
        request(f"{dash_url}/identity/{regions[0]}/{name}")
        results = {}
        for label, path in pages:
            rps, p50, p99 = wrk(dash_url + path, args.seconds, args.connections,
                                errors_expected=path == "/no-such-page")
            results[path] = (rps, p99)
            print(f"{label:<58}{rps:>9.0f}{p50:>9.1f}{p99:>9.1f}{rss_mb(dash.pid)[0]:>9.0f}")
        # The same home page views, each URL asked for once: every request rendered.
        for label, path in pages[1:5]:
            rps, p50, p99 = wrk(dash_url + path, args.seconds, args.connections, unique=True)
            print(f"{label + ', each rendered':<58}{rps:>9.0f}{p50:>9.1f}{p99:>9.1f}{rss_mb(dash.pid)[0]:>9.0f}")
        static_rps, static_p99 = results["/favicon.svg"]
        overview_rps, overview_p99 = results["/"]
        print(f"overview / static file: {overview_rps / static_rps:.2f} x the requests a second "
              f"(target >= 0.3), p99 {overview_p99 / static_p99:.1f} x (target <= 3)")
        print(f"\n{'one connection (one operator), ' + str(args.seconds) + ' s each':<58}"
              f"{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'RSS MB':>9}")
        for label, path in pages[1:5]:
            # One operator paging through views: each one asked for once, so rendered.
            rps, p50, p99 = wrk(dash_url + path, args.seconds, 1, unique=True)
            print(f"{label + ', each rendered':<58}{rps:>9.0f}{p50:>9.1f}{p99:>9.1f}{rss_mb(dash.pid)[0]:>9.0f}")

        print()
        for label, path in [("zone export of every identity", "/download/identities.zone"),
                            ("JSON export of every identity", "/download/identities.json")]:
            rss_before = rss_mb(dash.pid)[0]
            (status, body, first_byte, total), highest = highest_rss_during(
                dash.pid, lambda: request(dash_url + path))
            assert status == 200, f"{path}: {status}"
            print(f"{label:<40} first byte {first_byte * 1000:7.0f} ms, all {total * 1000:7.0f} ms, "
                  f"{len(body) / 1e6:6.1f} MB; RSS {rss_before:.0f} MB before, {highest:.0f} MB at most while written")
        scrapes = []
        for _ in range(5):
            status, body, _, total = request(dash_url + "/metrics")
            assert status == 200, f"/metrics: {status}"
            scrapes.append(total)
        series = sum(1 for line in body.splitlines() if line.startswith(b"dkimdash_identity_dkim_status{"))
        print(f"{'/metrics, --metrics-per-identity':<40} {statistics.median(scrapes) * 1000:7.0f} ms median of 5, "
              f"{len(body) / 1e6:6.1f} MB, {series:,} identity series; RSS after {rss_mb(dash.pid)[0]:.0f} MB")
        rss_now, rss_peak = rss_mb(dash.pid)
        print(f"RSS after the load and exports: {rss_now:.0f} MB (peak {rss_peak:.0f} MB; target <= 256), "
              f"{process_status(dash.pid)['Threads'].strip()} threads")
        time.sleep(QUIET_SECONDS)
        print(f"RSS after {QUIET_SECONDS} s with no requests: {rss_mb(dash.pid)[0]:.0f} MB")

        # A second sweep over an unchanged fleet: "Refresh now" (the refresh button's route).
        rows_before = history_rows(db)
        request(f"{sim_url}/_sim/stats/reset", "POST")
        status = request(f"{dash_url}/api/refresh_inventory", "POST", None,
                         {"Content-Type": "application/x-www-form-urlencoded"})[0]
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            calls = json.loads(request(f"{sim_url}/_sim/stats")[1])["calls"]
            batches = sum(v for k, v in flatten(calls) if "GetIdentityDkimAttributes" in k)
            if batches >= targets * math.ceil(per_target / 100):
                break
            time.sleep(1)
        rows_second = settled_history(db, 120)
        print(f"history written by a second sweep, SES unchanged but details arriving meanwhile "
              f"(refresh answered {status}): "
              f"{rows_second[0] - rows_before[0]:,} state rows, {rows_second[1] - rows_before[1]:,} change rows")
        logs.flush()
        summarize("history recorder", timings(log_path, "history recorded"), size)
        summarize("alert engine", timings(log_path, "alert rules evaluated"), size)
    finally:
        for process in processes:
            process.terminate()
            process.wait()


def flatten(value, prefix=""):
    """The simulator's call counts, whatever their nesting, as (path, count) pairs."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from flatten(inner, f"{prefix}/{key}")
    elif isinstance(value, list):
        for item in value:
            yield from flatten(item, prefix)
    elif isinstance(value, (int, float)):
        yield prefix, value


def ensure_wrk():
    """wrk from Debian's packages, installed when missing."""
    if shutil.which("wrk"):
        return
    print("bench-fleet: installing wrk (apt-get install wrk)", file=sys.stderr)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
        if subprocess.run(command, env=env).returncode != 0:
            sys.exit("bench-fleet: wrk is missing and could not be installed: apt-get install wrk")


def ports_in_use():
    """The benchmark's ports something already listens on (a server of an earlier run, say:
    its simulator would already hold the identities, and adding them again fails)."""
    taken = []
    for port in (SIM_PORT, DASH_PORT, DNS_PORT, DNS_PORT + 1):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                taken.append(port)
    return taken


def main():
    args = options()
    if not os.access(args.binary, os.X_OK):
        sys.exit(f"bench-fleet: no release build at {args.binary}: cargo leptos build --release first")
    taken = ports_in_use()
    if taken:
        sys.exit(f"bench-fleet: something already listens on 127.0.0.1 port(s) "
                 f"{', '.join(map(str, taken))} (a server of an earlier run with --hold?): stop it first")
    ensure_wrk()
    with tempfile.TemporaryDirectory() as work:
        for size in (int(s) for s in args.sizes.split(",")):
            run_size(args, size, work)


if __name__ == "__main__":
    main()
