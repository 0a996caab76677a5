#!/usr/bin/env python3
"""Checks deploy/kubernetes without a cluster: the kustomization rendered (the subset of
kustomize it uses, compared with `kubectl kustomize` when kubectl is on PATH), every
object valid against the Kubernetes schemas (kubernetes-validate, strict), then what the
objects must agree on: a hardened single pod that SQLite can live with, probes on
dkimdash's paths and ports, settings the binary knows, a Service and a NetworkPolicy
whose ports are the container's, the ServiceMonitor's port; and the ConfigMap's
environment started with the binary (demo mode, loopback) and asked what the probes and
Prometheus ask.
    tests/deploy/check_kubernetes.py [DKIMDASH_BIN] [--dir deploy/kubernetes]
Kubernetes versions: K8S_VERSIONS (comma-separated), default 1.30,1.37.
Needs tests/deploy/requirements.txt."""

import copy
import ipaddress
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
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
    load_yaml_all,
    http_status,
    port_of,
    unknown_env,
    wait_for,
    work_dir,
)

VERSIONS = os.environ.get("K8S_VERSIONS", "1.30,1.37").split(",")
KUSTOMIZATION_KEYS = {"apiVersion", "kind", "namespace", "labels", "resources", "images"}
CLUSTER_SCOPED = {
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PersistentVolume",
    "StorageClass",
    "PriorityClass",
}
USER = 65532
# Opt-in objects, checked as if added to the kustomization's resources.
OPT_IN = ["servicemonitor.yaml"]


class Unsupported(Exception):
    """A kustomization field this renderer does not implement."""


def render(directory, extra=()):
    """The objects `kubectl kustomize directory` gives, for the fields used here."""
    k = load_yaml((directory / "kustomization.yaml").read_text())
    unknown = set(k) - KUSTOMIZATION_KEYS
    if unknown:
        raise Unsupported(f"{directory}/kustomization.yaml: {sorted(unknown)} not implemented here")
    objects = []
    for resource in list(k.get("resources", [])) + list(extra):
        path = directory / resource
        if path.is_dir():
            objects += render(path)
        else:
            objects += load_yaml_all(path.read_text())
    for obj in objects:
        if k.get("namespace") and obj["kind"] not in CLUSTER_SCOPED:
            obj["metadata"]["namespace"] = k["namespace"]
        for entry in k.get("labels", []):
            if entry.get("includeSelectors"):
                raise Unsupported("labels with includeSelectors")
            obj["metadata"].setdefault("labels", {}).update(entry["pairs"])
            template = obj.get("spec", {}).get("template")
            if entry.get("includeTemplates") and template is not None:
                template.setdefault("metadata", {}).setdefault("labels", {}).update(entry["pairs"])
        for container in pod_containers(obj):
            for image in k.get("images", []):
                container["image"] = retag(container["image"], image)
    return objects


def retag(ref, image):
    """kustomize's `images` entry applied to one container image reference."""
    name, suffix = ref, ""
    for mark in ("@", ":"):
        if mark in name.rsplit("/", 1)[-1]:
            name, rest = name.split(mark, 1) if mark == "@" else name.rsplit(mark, 1)
            suffix = mark + rest + suffix
    if name != image["name"]:
        return ref
    if image.get("digest"):
        suffix = "@" + image["digest"]
    elif image.get("newTag"):
        suffix = ":" + image["newTag"]
    return image.get("newName", name) + suffix


def pod_containers(obj):
    spec = obj.get("spec", {}).get("template", {}).get("spec", {})
    return spec.get("containers", []) + spec.get("initContainers", [])


def key(obj):
    return (
        obj["apiVersion"],
        obj["kind"],
        obj["metadata"].get("namespace"),
        obj["metadata"]["name"],
    )


def compare_with_kubectl(directory, objects, tally, label):
    if not shutil.which("kubectl"):
        print(f"skipped: kubectl is not on PATH, {label} not compared with kubectl kustomize")
        return
    done = subprocess.run(
        ["kubectl", "kustomize", str(directory)], capture_output=True, text=True, timeout=120
    )
    if not tally.check(
        done.returncode == 0, f"{label}: kubectl kustomize failed: {done.stderr.strip()}"
    ):
        return
    theirs = {key(o): o for o in yaml.safe_load_all(done.stdout) if o}
    ours = {key(o): o for o in objects}
    tally.check(
        set(theirs) == set(ours),
        f"{label}: kubectl kustomize renders {sorted(set(theirs) ^ set(ours))} differently",
    )
    for k in set(theirs) & set(ours):
        same = json.dumps(theirs[k], sort_keys=True) == json.dumps(ours[k], sort_keys=True)
        tally.check(
            same, f"{label}: {k} differs from kubectl kustomize's:\n{yaml.safe_dump(theirs[k])}"
        )


def validate(objects, tally):
    """Each object against the schemas of each version; a kind they lack (a CRD's) is
    left to the checks below."""
    for obj in objects:
        for version in VERSIONS:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
                tally.check(True, "")
            except kubernetes_validate.SchemaNotFoundError:
                if version == VERSIONS[0]:
                    print(
                        f"not in the schemas: {obj['kind']} {obj['metadata']['name']} "
                        f"({obj['apiVersion']})"
                    )
            except kubernetes_validate.ValidationError as error:
                path = "/".join(str(p) for p in error.path)
                tally.check(
                    False,
                    f"{obj['kind']} {obj['metadata']['name']} is not valid for Kubernetes "
                    f"{version} at {path}: {error.message}",
                )


def matches(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def container_port(container, port):
    """A named or numbered port → the container's port number (None if it has none such)."""
    for p in container.get("ports", []):
        if port in (p.get("name"), p["containerPort"]):
            return p["containerPort"]
    return None


def check_objects(objects, server_help, tally):
    """Returns the environment the container gets from its ConfigMap and env."""
    by_kind = {}
    for obj in objects:
        by_kind.setdefault(obj["kind"], []).append(obj)

    def one(kind):
        return (by_kind.get(kind) or [None])[0]

    deployments = by_kind.get("Deployment", [])
    if not tally.check(len(deployments) == 1, f"expected one Deployment, found {len(deployments)}"):
        return None
    deployment = deployments[0]
    spec = deployment["spec"]
    pod = spec["template"]["spec"]
    pod_labels = spec["template"]["metadata"].get("labels", {})
    tally.check(
        spec.get("replicas") == 1,
        f"Deployment replicas is {spec.get('replicas')}, not 1 (one SQLite writer)",
    )
    tally.check(
        spec.get("strategy", {}).get("type") == "Recreate",
        "Deployment strategy is not Recreate (one SQLite writer)",
    )
    tally.check(
        matches(spec["selector"].get("matchLabels"), pod_labels),
        "the Deployment's selector does not match its pods",
    )

    security = pod.get("securityContext", {})
    tally.check(security.get("runAsNonRoot") is True, "pod runAsNonRoot is not true")
    tally.check(
        security.get("runAsUser") == USER and security.get("runAsGroup") == USER,
        f"pod does not run as {USER}:{USER}",
    )
    tally.check(
        security.get("fsGroup") == USER,
        f"pod fsGroup is not {USER}: the volume would not be writable",
    )
    tally.check(
        pod.get("automountServiceAccountToken") is False, "pod mounts the API token it never uses"
    )
    tally.check(
        pod.get("enableServiceLinks") is False,
        "service links would add DKIMDASH_SERVICE_* beside dkimdash's settings",
    )
    containers = pod["containers"]
    tally.check(len(containers) == 1, "expected one container")
    container = containers[0]
    c_security = container.get("securityContext", {})
    seccomp = c_security.get("seccompProfile", security.get("seccompProfile", {}))
    tally.check(seccomp.get("type") == "RuntimeDefault", "seccomp profile is not RuntimeDefault")
    tally.check(
        c_security.get("allowPrivilegeEscalation") is False, "allowPrivilegeEscalation is not false"
    )
    tally.check(
        c_security.get("readOnlyRootFilesystem") is True, "readOnlyRootFilesystem is not true"
    )
    tally.check(
        "ALL" in c_security.get("capabilities", {}).get("drop", []), "capabilities do not drop ALL"
    )
    tally.check(
        not c_security.get("capabilities", {}).get("add") and not c_security.get("privileged"),
        "capabilities added or privileged",
    )
    tally.check(
        c_security.get("runAsUser", USER) == USER and c_security.get("runAsNonRoot", True) is True,
        "the container overrides the pod's user",
    )
    tally.check(
        container["image"] != "dkimdash" and not container["image"].startswith("dkimdash:"),
        f"image {container['image']} was not renamed by the kustomization's images",
    )
    tally.check(
        container.get("resources", {}).get("requests")
        and container.get("resources", {}).get("limits", {}).get("memory"),
        "no resource requests or memory limit",
    )

    # Settings: the ConfigMap's keys and the container's env.
    env = {}
    for source in container.get("envFrom", []):
        name = source.get("configMapRef", {}).get("name")
        config_map = next(
            (c for c in by_kind.get("ConfigMap", []) if c["metadata"]["name"] == name), None
        )
        if tally.check(config_map, f"envFrom names ConfigMap {name}, which is not rendered"):
            env.update({k: str(v) for k, v in config_map.get("data", {}).items()})
    env.update({e["name"]: str(e.get("value", "")) for e in container.get("env", [])})
    unknown = unknown_env(env, server_help)
    tally.check(not unknown, f"settings the binary does not know: {unknown}")
    auth = env.get("DKIMDASH_AUTH", "none")
    tally.check(
        auth in ("trusted-header", "jwt"), f"DKIMDASH_AUTH {auth}: dkimdash refuses it off loopback"
    )
    if auth == "trusted-header":
        tally.check(
            env.get("DKIMDASH_TRUSTED_PROXIES"), "trusted-header without DKIMDASH_TRUSTED_PROXIES"
        )
        for cidr in env.get("DKIMDASH_TRUSTED_PROXIES", "").split(","):
            tally.check(
                ipaddress.ip_network(cidr.strip(), strict=False).prefixlen > 0,
                f"DKIMDASH_TRUSTED_PROXIES {cidr} trusts every address",
            )
    listen = port_of(env.get("DKIMDASH_LISTEN", "0.0.0.0:3000"))
    tally.check(
        container_port(container, "http") == listen,
        f"container port http is not DKIMDASH_LISTEN's {listen}",
    )
    metrics = (
        port_of(env["DKIMDASH_METRICS_LISTEN"]) if env.get("DKIMDASH_METRICS_LISTEN") else None
    )
    if metrics:
        tally.check(
            container_port(container, "metrics") == metrics,
            f"container port metrics is not DKIMDASH_METRICS_LISTEN's {metrics}",
        )
        tally.check(
            not env.get("DKIMDASH_ALLOWED_HOSTS"),
            "DKIMDASH_ALLOWED_HOSTS with a metrics listener: Prometheus, asking by pod "
            "address, gets 421",
        )

    # Probes: dkimdash's paths, on the dashboard's port.
    for probe, path in [
        ("livenessProbe", "/livez"),
        ("readinessProbe", "/readyz"),
        ("startupProbe", "/livez"),
    ]:
        get = container.get(probe, {}).get("httpGet")
        if probe == "startupProbe" and probe not in container:
            continue
        if tally.check(get, f"no {probe} httpGet"):
            tally.check(get["path"] == path, f"{probe} asks {get['path']}, not {path}")
            tally.check(
                container_port(container, get["port"]) == listen,
                f"{probe} port {get['port']} is not the dashboard's {listen}",
            )
    grace = pod.get("terminationGracePeriodSeconds", 30)
    needed = int(env.get("DKIMDASH_REQUEST_TIMEOUT_SECS", 30)) + 10
    tally.check(
        grace >= needed,
        f"terminationGracePeriodSeconds {grace} < {needed}: in-flight requests, then 10 s "
        "of background work, are cut short",
    )

    # Volumes: the audit log on the claim, /tmp writable.
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    mounts = {m["mountPath"]: volumes.get(m["name"], {}) for m in container.get("volumeMounts", [])}
    audit_db = env.get("DKIMDASH_AUDIT_DB", "/data/audit.sqlite3")
    holder = max(
        (p for p in mounts if audit_db.startswith(p.rstrip("/") + "/")), key=len, default=None
    )
    claim = mounts.get(holder, {}).get("persistentVolumeClaim", {}).get("claimName")
    pvc = next(
        (p for p in by_kind.get("PersistentVolumeClaim", []) if p["metadata"]["name"] == claim),
        None,
    )
    if tally.check(pvc, f"the audit log {audit_db} is not on a rendered PersistentVolumeClaim"):
        tally.check(
            pvc["spec"].get("accessModes") == ["ReadWriteOnce"], "the claim is not ReadWriteOnce"
        )
    tally.check("emptyDir" in mounts.get("/tmp", {}), "/tmp is not an emptyDir")

    account = one("ServiceAccount")
    if tally.check(
        account and pod.get("serviceAccountName") == account["metadata"]["name"],
        "the pod's ServiceAccount is not rendered",
    ):
        arn = account["metadata"].get("annotations", {}).get("eks.amazonaws.com/role-arn", "")
        tally.check(
            arn.startswith("arn:aws") and ":role/" in arn,
            "the ServiceAccount has no eks.amazonaws.com/role-arn",
        )
        tally.check(
            account.get("automountServiceAccountToken") is False,
            "the ServiceAccount mounts its token",
        )

    # The Service and the NetworkPolicy open the container's ports, no others.
    ports = {p["containerPort"]: p.get("name") for p in container.get("ports", [])}
    service = one("Service")
    if tally.check(service, "no Service"):
        tally.check(
            matches(service["spec"].get("selector"), pod_labels),
            "the Service's selector does not match the pods",
        )
        targets = {
            container_port(container, p.get("targetPort", p["port"]))
            for p in service["spec"]["ports"]
        }
        tally.check(
            targets == set(ports),
            f"the Service reaches ports {targets}, the container has {set(ports)}",
        )
        for p in service["spec"]["ports"]:
            tally.check(
                p["port"] == container_port(container, p.get("targetPort", p["port"])),
                f"Service port {p['name']} {p['port']} is not its target's number",
            )
    policy = one("NetworkPolicy")
    if tally.check(policy, "no NetworkPolicy"):
        check_policy(policy["spec"], pod_labels, container, ports, listen, metrics, tally)

    monitor = one("ServiceMonitor")
    if monitor and service:
        tally.check(
            matches(
                monitor["spec"]["selector"].get("matchLabels"),
                service["metadata"].get("labels", {}),
            ),
            "the ServiceMonitor does not select the Service",
        )
        names = {p.get("name") for p in service["spec"]["ports"]}
        for endpoint in monitor["spec"]["endpoints"]:
            tally.check(
                endpoint.get("port") in names,
                f"the ServiceMonitor scrapes port {endpoint.get('port')}, "
                "which the Service does not name",
            )
            tally.check(
                endpoint.get("path", "/metrics") == "/metrics",
                "the ServiceMonitor does not scrape /metrics",
            )
            target = next(
                (p for p in service["spec"]["ports"] if p.get("name") == endpoint.get("port")), {}
            )
            tally.check(
                container_port(container, target.get("targetPort", target.get("port"))) == metrics,
                "the ServiceMonitor scrapes a port that is not DKIMDASH_METRICS_LISTEN's",
            )
    return env


def check_policy(spec, pod_labels, container, ports, listen, metrics, tally):
    tally.check(
        matches(spec["podSelector"].get("matchLabels"), pod_labels),
        "the NetworkPolicy does not select the pods",
    )
    tally.check(
        set(spec.get("policyTypes", [])) == {"Ingress", "Egress"},
        "the NetworkPolicy does not limit both ingress and egress",
    )
    opened = {}
    for rule in spec.get("ingress", []):
        for port in rule.get("ports", []):
            number = container_port(container, port["port"])
            tally.check(
                number in ports,
                f"the NetworkPolicy opens port {port['port']}, which the container does not have",
            )
            opened.setdefault(number, []).append(rule.get("from", []))
    tally.check(
        set(opened) == set(ports),
        f"the NetworkPolicy opens {set(opened)}, the container has {set(ports)}",
    )
    for peers in opened.get(listen, []):
        # The dashboard's port only from the proxy's pods: not everyone, not dkimdash itself.
        for peer in peers or [{}]:
            selector = peer.get("podSelector", {}).get("matchLabels")
            tally.check(
                selector and not matches(selector, pod_labels) and "ipBlock" not in peer,
                f"the dashboard's port is open to {peer or 'everyone'}, not only the proxy's pods",
            )
    for peers in opened.get(metrics, []):
        tally.check(
            peers and all(p.get("namespaceSelector") or p.get("podSelector") for p in peers),
            "the metrics port is open to everyone",
        )

    def allowed(protocol, number, cidr):
        for rule in spec.get("egress", []):
            reach = any(
                p.get("ipBlock", {}).get("cidr") == cidr and not p["ipBlock"].get("except")
                for p in rule.get("to", [])
            )
            if reach and any(
                p.get("protocol", "TCP") == protocol and p.get("port") == number
                for p in rule.get("ports", [])
            ):
                return True
        return False

    for cidr in ("0.0.0.0/0", "::/0"):
        # The DNS checks ask each domain's own nameservers; SES and STS are on 443.
        for protocol, number in [("UDP", 53), ("TCP", 53), ("TCP", 443)]:
            tally.check(
                allowed(protocol, number, cidr),
                f"the NetworkPolicy does not let {protocol} {number} out to {cidr}",
            )


def run_env(binary, env, container, tally):
    """The ConfigMap's environment started; the probes' and Prometheus's questions asked."""
    with work_dir() as work:
        try:
            with dashboard(binary, env, work) as running:
                tally.check(True, "dkimdash starts with the ConfigMap's environment")
                ports = {"http": running.port, "metrics": running.metrics_port}
                for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                    get = container.get(probe, {}).get("httpGet")
                    if get:
                        port = ports.get(get["port"]) or running.port
                        ok = wait_for(lambda p=port, g=get: http_status(p, g["path"]) == 200)
                        tally.check(ok, f"{probe} {get['path']} never answered 200")
                if running.metrics_port:
                    # As Prometheus asks: by the pod's address.
                    status = http_status(running.metrics_port, "/metrics", host="10.1.2.3:9100")
                    tally.check(
                        status == 200,
                        f"/metrics on the metrics port answered {status} to a scraper, not 200",
                    )
        except RuntimeError as error:
            tally.check(False, str(error))


def main():
    args, binary = arguments(__doc__, REPO / "deploy" / "kubernetes")
    server_help, _ = binary_help(binary)
    tally = Tally("check_kubernetes")
    try:
        objects = render(args.dir)
        with_opt_in = render(args.dir, OPT_IN)
    except (Unsupported, OSError, yaml.YAMLError, KeyError) as error:
        tally.check(False, f"rendering {args.dir}: {error}")
        tally.finish()
    compare_with_kubectl(args.dir, objects, tally, "the kustomization")
    with work_dir() as copy_dir:
        # The opt-in files as an operator adds them: to the resources of a copy.
        opted = Path(copy_dir) / "kubernetes"
        shutil.copytree(args.dir, opted)
        k = yaml.safe_load((opted / "kustomization.yaml").read_text())
        k["resources"] += OPT_IN
        (opted / "kustomization.yaml").write_text(yaml.safe_dump(k))
        compare_with_kubectl(
            opted, with_opt_in, tally, "the kustomization with " + ", ".join(OPT_IN)
        )
    tally.check(
        not any(o["kind"] == "ServiceMonitor" for o in objects),
        "a ServiceMonitor is in the default kustomization: it fails where its CRD is absent",
    )
    validate(with_opt_in, tally)
    try:
        env = check_objects(copy.deepcopy(with_opt_in), server_help, tally)
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as error:
        # A value of the wrong shape (an address that is none, a list for a map).
        tally.check(False, f"the objects cannot be read as they should: {error!r}")
        env = None
    if env is not None and not args.no_run:
        deployment = next(o for o in with_opt_in if o["kind"] == "Deployment")
        run_env(binary, env, deployment["spec"]["template"]["spec"]["containers"][0], tally)
    tally.finish()


if __name__ == "__main__":
    main()
