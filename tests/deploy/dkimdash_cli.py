"""What check_compose.py and check_kubernetes.py share: the settings a dkimdash binary
knows (from its --help), a run of that binary with a deployment's environment, YAML read
as strictly as compose and kubectl read it, and the tally of checks."""

import argparse
import contextlib
import http.client
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
# Variables a deployment may give dkimdash besides its own settings.
OTHER_ENV = re.compile(r"^(AWS_[A-Z0-9_]+|RUST_LOG|SSL_CERT_FILE|SSL_CERT_DIR|TZ)$")


@dataclass
class Help:
    """The long flags and environment variables one command's --help lists."""

    flags: set = field(default_factory=set)
    envs: set = field(default_factory=set)


def parse_help(text):
    """Flags are option lines' `--name`; variables are their `[env: NAME=…]` notes."""
    found = Help()
    for line in text.splitlines():
        option = re.match(r"^\s+(?:-\w, )?--([a-z0-9][a-z0-9-]*)", line)
        if option:
            found.flags.add("--" + option.group(1))
        found.envs.update(re.findall(r"\[env: ([A-Z][A-Z0-9_]*)", line))
    return found


def binary_help(binary):
    """The server's --help and its healthcheck subcommand's."""

    def ask(*args):
        done = subprocess.run([binary, *args, "--help"], capture_output=True, text=True, timeout=30)
        if done.returncode != 0:
            sys.exit(f"{binary} {' '.join(args)} --help failed: {done.stderr.strip()}")
        return parse_help(done.stdout)

    server, healthcheck = ask(), ask("healthcheck")
    if "--auth" not in server.flags or "DKIMDASH_LISTEN" not in server.envs:
        sys.exit(f"{binary} --help does not read as dkimdash's (no --auth, no DKIMDASH_LISTEN)")
    return server, healthcheck


def arguments(doc, default_dir):
    """A check's command line: the binary (or DKIMDASH_BIN), `--dir` (the files to check,
    default `default_dir`), `--no-run`. Returns the options and the binary's path."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("binary", nargs="?", help="dkimdash (default: $DKIMDASH_BIN)")
    parser.add_argument("--dir", type=Path, default=default_dir)
    parser.add_argument("--no-run", action="store_true", help="skip starting the binary")
    args = parser.parse_args()
    return args, binary_path(args.binary)


def binary_path(argv):
    """The binary named on the command line, else by DKIMDASH_BIN."""
    path = argv or os.environ.get("DKIMDASH_BIN")
    if not path:
        sys.exit("name the dkimdash binary: as the first argument or in DKIMDASH_BIN")
    if not os.access(path, os.X_OK):
        sys.exit(f"{path} is not an executable")
    return path


class StrictLoader(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys; compose and kubectl refuse them, as this does."""


def _mapping(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load_yaml(text):
    return yaml.load(text, Loader=StrictLoader)


def load_yaml_all(text):
    return [d for d in yaml.load_all(text, Loader=StrictLoader) if d]


class Tally:
    """Checks that pass or fail, each with what it says; the process fails if any did."""

    def __init__(self, name):
        self.name, self.passed, self.failed = name, 0, []

    def check(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed.append(what)
            print(f"FAIL {what}", flush=True)
        return ok

    def finish(self):
        print(f"{self.name}: {self.passed} passed, {len(self.failed)} failed")
        sys.exit(1 if self.failed else 0)


def unknown_env(names, server_help):
    """The names a deployment gives dkimdash that it would not read."""
    return sorted(n for n in names if n not in server_help.envs and not OTHER_ENV.match(n))


def port_of(address):
    """`0.0.0.0:3000` → 3000."""
    return int(address.rsplit(":", 1)[1])


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http_status(port, path, host=None, timeout=5):
    """The status of GET path on loopback, with `Host: host` when given; None if no answer."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Host": host} if host else {})
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


@dataclass
class Running:
    """A dashboard started by `dashboard`: its environment and where it listens."""

    env: dict
    port: int
    metrics_port: int | None
    log: Path


@contextlib.contextmanager
def dashboard(binary, env, work):
    """Runs the binary with a deployment's environment, on loopback and in demo mode
    (no AWS, no outside DNS), until /livez answers; stopped on leaving. What the
    deployment chose for auth, hosts, proxies, groups, regions… is kept as it is, so a
    value the binary refuses stops it here as it would in the deployment."""
    env = dict(env)
    port = free_port()
    env["DKIMDASH_LISTEN"] = f"127.0.0.1:{port}"
    metrics_port = None
    if env.get("DKIMDASH_METRICS_LISTEN"):
        metrics_port = free_port()
        env["DKIMDASH_METRICS_LISTEN"] = f"127.0.0.1:{metrics_port}"
    env["DKIMDASH_AUDIT_DB"] = str(Path(work) / "data" / "audit.sqlite3")
    env["DKIMDASH_SES"] = "simulator"
    env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
    log = Path(work) / "dkimdash.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [binary], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=work
        )
    try:
        deadline = time.monotonic() + 30
        while http_status(port, "/livez", timeout=1) != 200:
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text()[-2000:]
                raise RuntimeError(f"dkimdash did not start with this environment:\n{tail}")
            time.sleep(0.2)
        yield Running(env, port, metrics_port, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(condition, seconds=30):
    """Whether condition() held within `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.3)
    return True


def work_dir():
    return tempfile.TemporaryDirectory(prefix="dkimdash-deploy-check-")
