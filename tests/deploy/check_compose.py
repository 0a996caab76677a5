#!/usr/bin/env python3
"""Checks deploy/compose without a container runtime: both compose files read with
.env.example as compose would, their references (variables, networks, volumes,
depends_on, bind mounts) consistent, dkimdash hardened and unpublished, its settings and
flags ones the binary knows, its proxy wired to it, and each file's dkimdash environment
started with the binary (demo mode, loopback) and answered by the healthcheck it names.
    tests/deploy/check_compose.py [DKIMDASH_BIN] [--dir deploy/compose]
Needs PyYAML (tests/deploy/requirements.txt) and, for the Pomerium variant's run, openssl."""

import ipaddress
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import yaml

# No __pycache__ beside the checks: the repository does not ignore it.
sys.dont_write_bytecode = True
from dkimdash_cli import (  # noqa: E402
    REPO,
    Tally,
    arguments,
    binary_help,
    dashboard,
    load_yaml,
    port_of,
    unknown_env,
    wait_for,
    work_dir,
)

FILES = ["compose.yaml", "compose.pomerium.yaml"]
IMAGE_PATH = "/usr/local/bin/dkimdash"
# Compose variables that are not dkimdash settings though their names say dkimdash.
COMPOSE_ONLY = {"DKIMDASH_IMAGE"}
SERVICE_KEYS = {
    "image",
    "restart",
    "read_only",
    "tmpfs",
    "cap_drop",
    "cap_add",
    "security_opt",
    "volumes",
    "environment",
    "env_file",
    "healthcheck",
    "networks",
    "ports",
    "expose",
    "depends_on",
    "stop_grace_period",
    "stop_signal",
    "user",
    "command",
    "entrypoint",
    "labels",
    "logging",
    "init",
    "ulimits",
    "deploy",
    "container_name",
    "hostname",
    "extra_hosts",
    "working_dir",
    "profiles",
    "pids_limit",
    "mem_limit",
    "cpus",
    "secrets",
    "configs",
    "platform",
    "pull_policy",
    "shm_size",
    "dns",
    "sysctls",
}
VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?+])?(?P<arg>[^}]*)\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


def read_env_file(path, tally):
    """KEY=VALUE lines of .env.example (comments and blank lines aside)."""
    values = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)", line)
        if tally.check(match, f"{path.name}:{number}: not KEY=VALUE: {line!r}"):
            values[match.group(1)] = match.group(2)
    return values


def strings(node):
    """Every string in a parsed document, keys included."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from strings(key)
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)
    elif isinstance(node, str):
        yield node


def interpolate(node, values):
    """The document as compose reads it with `values`. A blank value that a `:?` requires
    becomes a placeholder: the example leaves secrets blank."""

    def one(text):
        def replace(match):
            if match.group("escaped"):
                return "$"
            name = match.group("braced") or match.group("bare")
            op, arg = match.group("op"), match.group("arg")
            value = values.get(name)
            if op in (":-", "-") and (value is None or (op == ":-" and value == "")):
                return arg
            if op in (":?", "?") and (value is None or (op == ":?" and value == "")):
                return f"<{name}>"
            if op in (":+", "+"):
                return arg if value else ""
            return value or ""

        return VARIABLE.sub(replace, text)

    if isinstance(node, dict):
        return {interpolate(k, values): interpolate(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [interpolate(item, values) for item in node]
    return one(node) if isinstance(node, str) else node


def as_map(value):
    """compose's list-or-map fields (environment, networks, depends_on) as a dict."""
    if isinstance(value, dict):
        return {k: ({} if v is None else v) for k, v in value.items()}
    out = {}
    for item in value or []:
        key, _, rest = str(item).partition("=")
        out[key] = rest if "=" in str(item) else {}
    return out


def environment(service):
    """A service's environment; None for a name passed through from compose's own."""
    value = service.get("environment") or {}
    if isinstance(value, list):
        value = dict(item.split("=", 1) if "=" in item else (item, None) for item in value)
    return {k: None if v is None else str(v) for k, v in value.items()}


def words(value):
    """A command given as a string or a list, as its words."""
    return shlex.split(value) if isinstance(value, str) else [str(v) for v in value or []]


def mounts(service):
    """(source, target, read_only) of each short-syntax volume."""
    for spec in service.get("volumes", []):
        parts = spec.split(":")
        yield parts[0], parts[1], "ro" in parts[2:]


def is_bind(source):
    return source.startswith(("/", "./", "../", "~"))


def check_file(name, doc, env_values, directory, server_help, hc_help, tally):
    """Everything about one compose file; returns its dkimdash environment for the run."""
    at = f"{name}:"
    tally.check(
        set(doc) <= {"name", "services", "networks", "volumes"},
        f"{at} unexpected top-level keys {sorted(set(doc))}",
    )
    services = doc.get("services", {})
    networks = doc.get("networks", {}) or {}
    volumes = doc.get("volumes", {}) or {}
    for service_name, service in services.items():
        where = f"{at} service {service_name}:"
        unknown = set(service) - SERVICE_KEYS
        tally.check(not unknown, f"{where} keys compose does not know {sorted(unknown)}")
        for net in as_map(service.get("networks")):
            tally.check(net in networks, f"{where} network {net} is not declared")
        for source, _, read_only in mounts(service):
            if is_bind(source):
                path = (directory / source).resolve()
                # Keys and certificates are the operator's to make, never committed.
                made_by_operator = path.suffix in {".pem", ".crt", ".key"}
                tally.check(
                    path.exists() or made_by_operator,
                    f"{where} bind source {source} does not exist",
                )
                tally.check(read_only, f"{where} bind mount {source} is not read-only")
            else:
                tally.check(source in volumes, f"{where} volume {source} is not declared")
        for dependency, how in as_map(service.get("depends_on")).items():
            tally.check(
                dependency in services, f"{where} depends on {dependency}, which is no service"
            )
            if isinstance(how, dict) and how.get("condition") == "service_healthy":
                tally.check(
                    "healthcheck" in services.get(dependency, {}),
                    f"{where} waits for {dependency} to be healthy, which has no healthcheck",
                )
        image = str(service.get("image", ""))
        if service_name != "dkimdash":
            tally.check(
                re.search(r":v?\d+\.\d+\.\d+(@sha256:[0-9a-f]{64})?$", image),
                f"{where} image {image} is not pinned to a version",
            )

    dkimdash = services.get("dkimdash")
    if not tally.check(dkimdash, f"{at} no dkimdash service"):
        return None
    where = f"{at} dkimdash:"
    tally.check("ports" not in dkimdash, f"{where} publishes ports: only the proxy may")
    tally.check(dkimdash.get("read_only") is True, f"{where} not read_only")
    tally.check(
        "/tmp" in [t.split(":")[0] for t in dkimdash.get("tmpfs", [])], f"{where} no tmpfs at /tmp"
    )
    tally.check("ALL" in dkimdash.get("cap_drop", []), f"{where} does not drop every capability")
    tally.check(
        any(
            o in ("no-new-privileges", "no-new-privileges:true")
            for o in dkimdash.get("security_opt", [])
        ),
        f"{where} no no-new-privileges",
    )
    tally.check(
        dkimdash.get("restart") in ("always", "unless-stopped", "on-failure"),
        f"{where} restart policy {dkimdash.get('restart')!r}",
    )
    env = environment(dkimdash)
    unknown = unknown_env(env, server_help)
    tally.check(not unknown, f"{where} settings the binary does not know: {unknown}")
    for part in words(dkimdash.get("command")) + words(dkimdash.get("entrypoint")):
        flag = part.split("=")[0]
        if flag.startswith("--"):
            tally.check(
                flag in server_help.flags, f"{where} flag {flag} is not in the binary's --help"
            )

    test = (dkimdash.get("healthcheck") or {}).get("test", [])
    tally.check(
        test[:3] == ["CMD", IMAGE_PATH, "healthcheck"],
        f"{where} healthcheck is not [CMD, {IMAGE_PATH}, healthcheck]: {test}",
    )
    for flag in [str(part).split("=")[0] for part in test[3:] if str(part).startswith("--")]:
        tally.check(
            flag in hc_help.flags,
            f"{where} healthcheck flag {flag} is not in `healthcheck --help`",
        )
    data = [target for source, target, _ in mounts(dkimdash) if not is_bind(source)]
    audit_db = env.get("DKIMDASH_AUDIT_DB", "/data/audit.sqlite3")
    tally.check(
        any(audit_db.startswith(t.rstrip("/") + "/") for t in data),
        f"{where} the audit log {audit_db} is not on a named volume",
    )

    auth = env.get("DKIMDASH_AUTH", "none")
    tally.check(
        auth in ("trusted-header", "jwt"),
        f"{where} --auth {auth}: dkimdash refuses it off loopback",
    )
    listen_port = port_of(env.get("DKIMDASH_LISTEN", "0.0.0.0:3000"))
    proxies = [
        n
        for n in services
        if n != "dkimdash" and "dkimdash" in as_map(services[n].get("depends_on"))
    ]
    if not tally.check(
        len(proxies) == 1, f"{at} expected one proxy service depending on dkimdash, found {proxies}"
    ):
        return env
    proxy_name = proxies[0]
    proxy = services[proxy_name]
    tally.check(proxy.get("ports"), f"{at} the proxy {proxy_name} publishes no port")

    # The proxy and dkimdash meet on one internal network, and only there.
    shared = set(as_map(dkimdash.get("networks"))) & set(as_map(proxy.get("networks")))
    tally.check(
        len(shared) == 1,
        f"{at} dkimdash and {proxy_name} share {sorted(shared)}, not one network: the name "
        "dkimdash could resolve where the proxy does not connect from",
    )
    for net in shared:
        tally.check(
            (networks.get(net) or {}).get("internal") is True,
            f"{at} network {net} (dkimdash and the proxy) is not internal",
        )

    if auth == "trusted-header":
        check_trusted_header(at, env, proxy_name, proxy, shared, networks, listen_port, tally)
    elif auth == "jwt":
        check_pomerium(at, env, proxy, dkimdash, directory, env_values, listen_port, tally)
    return env


def check_trusted_header(at, env, proxy_name, proxy, shared, networks, listen_port, tally):
    trusted = [
        ipaddress.ip_network(t.strip(), strict=False)
        for t in env.get("DKIMDASH_TRUSTED_PROXIES", "").split(",")
        if t.strip()
    ]
    tally.check(trusted, f"{at} --auth trusted-header without DKIMDASH_TRUSTED_PROXIES")
    for net_name in shared:
        address = as_map(proxy.get("networks"))[net_name].get("ipv4_address")
        if not tally.check(address, f"{at} {proxy_name} has no fixed ipv4_address on {net_name}"):
            continue
        address = ipaddress.ip_address(address)
        tally.check(
            all(t.num_addresses == 1 for t in trusted),
            f"{at} DKIMDASH_TRUSTED_PROXIES {trusted} is wider than an address: the host's "
            "end of the bridge is in the subnet",
        )
        tally.check(
            any(address in t for t in trusted),
            f"{at} the proxy's address {address} is not in DKIMDASH_TRUSTED_PROXIES {trusted}",
        )
        pools = ((networks.get(net_name) or {}).get("ipam") or {}).get("config") or []
        if tally.check(pools, f"{at} network {net_name} has no fixed subnet"):
            subnet = ipaddress.ip_network(pools[0]["subnet"])
            tally.check(
                address in subnet, f"{at} the proxy's address {address} is outside {subnet}"
            )
            dynamic = pools[0].get("ip_range")
            tally.check(
                dynamic and address not in ipaddress.ip_network(dynamic),
                f"{at} the proxy's address {address} can be handed to another container: "
                f"not outside ip_range {dynamic}",
            )
            tally.check(
                not dynamic or ipaddress.ip_network(dynamic).subnet_of(subnet),
                f"{at} ip_range {dynamic} is not inside {subnet}",
            )
    proxy_env = environment(proxy)
    if "oauth2-proxy" in str(proxy.get("image")):
        tally.check(
            proxy_env.get("OAUTH2_PROXY_UPSTREAMS") == f"http://dkimdash:{listen_port}",
            f"{at} oauth2-proxy's upstream is {proxy_env.get('OAUTH2_PROXY_UPSTREAMS')}, not http://dkimdash:{listen_port}",
        )
        tally.check(
            proxy_env.get("OAUTH2_PROXY_PASS_USER_HEADERS") == "true",
            f"{at} oauth2-proxy does not pass the user headers",
        )
        # With it oauth2-proxy sets no X-Forwarded-Email, so a client's own would pass through.
        tally.check(
            proxy_env.get("OAUTH2_PROXY_PREFER_EMAIL_TO_USER") != "true",
            f"{at} OAUTH2_PROXY_PREFER_EMAIL_TO_USER lets a client's X-Forwarded-Email through",
        )
        for setting, header in [
            ("DKIMDASH_USER_HEADER", "X-Forwarded-User"),
            ("DKIMDASH_EMAIL_HEADER", "X-Forwarded-Email"),
            ("DKIMDASH_GROUPS_HEADER", "X-Forwarded-Groups"),
        ]:
            tally.check(
                env.get(setting, header).lower() == header.lower(),
                f"{at} {setting} is not {header}, the header oauth2-proxy sets",
            )


def check_pomerium(at, env, proxy, dkimdash, directory, env_values, listen_port, tally):
    tally.check(
        env.get("DKIMDASH_JWT_PRESET") == "pomerium",
        f"{at} --auth jwt without --jwt-preset pomerium",
    )
    mounted = {target: source for source, target, _ in mounts(proxy)}
    config_source = mounted.get("/pomerium/config.yaml")
    if not tally.check(config_source, f"{at} Pomerium has no /pomerium/config.yaml"):
        return
    config = load_yaml((directory / config_source).read_text())
    routes = [
        r for r in config.get("routes", []) if urlsplit(r.get("to", "")).hostname == "dkimdash"
    ]
    if not tally.check(
        len(routes) == 1, f"{at} pomerium config has {len(routes)} routes to dkimdash, not one"
    ):
        return
    route = routes[0]
    host = env_values.get("PUBLIC_HOST")
    tally.check(
        route["to"] == f"http://dkimdash:{listen_port}",
        f"{at} the route goes to {route['to']}, not http://dkimdash:{listen_port}",
    )
    tally.check(
        urlsplit(route["from"]).hostname == host,
        f"{at} the route is from {route['from']}, not PUBLIC_HOST {host}",
    )
    tally.check(
        env.get("DKIMDASH_JWT_ISSUER") == host and env.get("DKIMDASH_JWT_AUDIENCE") == host,
        f"{at} --jwt-issuer/--jwt-audience are not the route's host {host}",
    )
    tally.check(
        config.get("jwt_issuer_format", "hostOnly") == "hostOnly",
        f"{at} jwt_issuer_format is not hostOnly: iss would be a URL",
    )
    tally.check(
        route.get("pass_identity_headers", config.get("pass_identity_headers")) is True,
        f"{at} the route does not pass X-Pomerium-Jwt-Assertion (pass_identity_headers)",
    )
    if env.get("DKIMDASH_ALLOWED_HOSTS"):
        tally.check(
            route.get("preserve_host_header") is True,
            f"{at} Pomerium rewrites Host to dkimdash:{listen_port}, which --allowed-host refuses",
        )
    key_source = mounted.get(config.get("signing_key_file", ""))
    tally.check(
        key_source,
        f"{at} Pomerium's signing_key_file {config.get('signing_key_file')} is not mounted",
    )
    public = {target: source for source, target, _ in mounts(dkimdash)}.get(
        env.get("DKIMDASH_JWT_KEY_FILE", "")
    )
    tally.check(
        public,
        f"{at} DKIMDASH_JWT_KEY_FILE {env.get('DKIMDASH_JWT_KEY_FILE')} is not mounted",
    )
    if key_source and public:
        tally.check(
            Path(public).name == Path(key_source).stem + ".pub.pem",
            f"{at} dkimdash's key {public} is not the public half of Pomerium's {key_source}",
        )


def run_file(name, env, doc, binary, tally):
    """The file's dkimdash environment started, and its healthcheck asked as compose would."""
    dkimdash = doc["services"]["dkimdash"]
    with work_dir() as work:
        env = {k: v for k, v in env.items() if v is not None}
        for _, target, _ in mounts(dkimdash):
            if env.get("DKIMDASH_JWT_KEY_FILE") == target:
                if not shutil.which("openssl"):
                    print(f"skipped: {name}'s run needs openssl to make a throwaway key")
                    return
                private, public = Path(work) / "key.pem", Path(work) / "key.pub.pem"
                make = "openssl ecparam -genkey -name prime256v1 -noout -out".split()
                subprocess.run([*make, private], check=True)
                derive = ["openssl", "ec", "-in", private, "-pubout", "-out", public]
                subprocess.run(derive, check=True, capture_output=True)
                env["DKIMDASH_JWT_KEY_FILE"] = str(public)
        try:
            with dashboard(binary, env, work) as running:
                tally.check(True, f"{name}: dkimdash starts with this environment")
                # The healthcheck as compose runs it, in the container's environment: the
                # wildcard address it names, on the port the server took.
                check_env = dict(running.env, DKIMDASH_LISTEN=f"0.0.0.0:{running.port}")
                command = [
                    binary if part == IMAGE_PATH else part
                    for part in dkimdash["healthcheck"]["test"][1:]
                ]
                healthy = wait_for(
                    lambda: (
                        subprocess.run(
                            command, env=check_env, capture_output=True, timeout=30
                        ).returncode
                        == 0
                    )
                )
                tally.check(
                    healthy,
                    f"{name}: the healthcheck {dkimdash['healthcheck']['test']} never succeeded",
                )
        except RuntimeError as error:
            tally.check(False, f"{name}: {error}")


def main():
    args, binary = arguments(__doc__, REPO / "deploy" / "compose")
    server_help, hc_help = binary_help(binary)
    tally = Tally("check_compose")
    env_values = read_env_file(args.dir / ".env.example", tally)
    unknown = sorted(
        n
        for n in env_values
        if n.startswith("DKIMDASH_") and n not in COMPOSE_ONLY and n not in server_help.envs
    )
    tally.check(
        not unknown, f".env.example: DKIMDASH_ names that are no dkimdash setting: {unknown}"
    )
    used = set()
    documents = {}
    for name in FILES:
        try:
            raw = load_yaml((args.dir / name).read_text())
        except (OSError, yaml.YAMLError) as error:
            tally.check(False, f"{name}: {error}")
            continue
        names = {
            m.group("braced") or m.group("bare")
            for text in strings(raw)
            for m in VARIABLE.finditer(text)
            if not m.group("escaped")
        }
        used |= names
        tally.check(
            names <= set(env_values),
            f"{name}: variables missing from .env.example: {sorted(names - set(env_values))}",
        )
        documents[name] = interpolate(raw, env_values)
    tally.check(
        set(env_values) <= used,
        f".env.example: variables no compose file uses: {sorted(set(env_values) - used)}",
    )
    for name, doc in documents.items():
        try:
            env = check_file(name, doc, env_values, args.dir, server_help, hc_help, tally)
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as error:
            # A value of the wrong shape (an address that is none, a list for a map).
            tally.check(False, f"{name}: cannot be read as a compose file should: {error!r}")
            continue
        if env is not None and not args.no_run:
            run_file(name, env, doc, binary, tally)
    tally.finish()


if __name__ == "__main__":
    main()
