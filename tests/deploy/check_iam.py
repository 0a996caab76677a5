#!/usr/bin/env python3
"""The IAM policies in deploy/iam against the AWS calls in src/: exits 1 when a call's
action is missing from the policy it belongs to, when a policy allows an action nothing
calls, or when the read-only policy allows a write.

  tests/deploy/check_iam.py [--src DIR] [--iam DIR]

The calls are read from the source, not from a list: first the names the SDK clients go
by (a field or variable of type aws_sdk_<crate>::Client, or of a `Client` imported from
aws_sdk_<crate>, or a function returning one), then every `<client>.<method>(` after
them is an operation: snake_case method -> PascalCase action. Python 3 stdlib only.
"""

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# SDK crate -> IAM prefix (SES API v1 and v2 share `ses:`).
PREFIXES = {"ses": "ses", "sesv2": "ses", "route53": "route53", "sts": "sts"}

READ_ONLY = "dkimdash-read-only.json"
OPERATOR = "dkimdash-operator.json"
ROUTE53 = "dkimdash-route53-publish.json"
TRUST = "dkimdash-cross-account-trust.json"
ASSUME = "dkimdash-assume-roles.json"
POLICIES = (READ_ONLY, OPERATOR, ROUTE53, TRUST, ASSUME)

# Actions a call needs besides its own (Service Authorization Reference), allowed only
# while that call is made.
DEPENDENT = {
    "ses:TagResource": "ses:CreateEmailIdentity",  # with tags
    "ses:ReplicateEmailIdentityDkimSigningKey": "ses:CreateEmailIdentity",  # DEED replica
}

# Actions the Service Authorization Reference gives no resource type: a statement scoped
# to ARNs never matches them.
NO_RESOURCE_TYPE = {
    "ses:ListEmailIdentities",
    "ses:GetIdentityDkimAttributes",
    "ses:VerifyDomainDkim",
    "route53:ListHostedZonesByName",
}

READ_VERBS = ("get", "list", "describe", "batchget")

# The credentials provider that calls STS AssumeRole for a role_arn.
ASSUME_ROLE_PROVIDER = re.compile(r"AssumeRoleProvider\s*::\s*builder\s*\(")


class Call:
    """One operation called in the source."""

    def __init__(self, action, method, path, line):
        self.action, self.method, self.path, self.line = action, method, path, line

    def where(self):
        return f"{self.path}:{self.line} ({self.method})"


def pascal(snake):
    return "".join(part[:1].upper() + part[1:] for part in snake.split("_"))


def is_read(action):
    """Get/List/Describe/BatchGet; anything else is a write."""
    return action.split(":", 1)[1].lower().startswith(READ_VERBS)


def belongs_in(action):
    """The policies that must allow `action`. Operator is read-only plus changes."""
    service = action.split(":", 1)[0]
    if service == "ses":
        return (READ_ONLY, OPERATOR) if is_read(action) else (OPERATOR,)
    if service == "route53":
        return (ROUTE53,)
    if service == "sts":
        return (ASSUME, TRUST)
    return ()


def line_of(code, offset):
    return code.count("\n", 0, offset) + 1


def without_comment_lines(text):
    """Full-line comments blanked (doc comments may show calls); line numbers kept."""
    lines = text.splitlines()
    return "\n".join("" if line.lstrip().startswith("//") else line for line in lines)


def client_names(files):
    """{name: crate} for names valid in every file (a field typed aws_sdk_x::Client is
    reached from other files), and per file for a bare `Client` imported there."""
    everywhere, per_file = {}, {}
    qualified = re.compile(r"\b(\w+)\s*:\s*aws_sdk_(\w+)::Client\b")
    assigned = re.compile(r"\blet\s+(?:mut\s+)?(\w+)\s*=\s*aws_sdk_(\w+)::Client::")
    imported = re.compile(r"use\s+aws_sdk_(\w+)::(?:\{[^}]*\bClient\b[^}]*\}|Client\s*;)")
    for path, code in files.items():
        for pattern in (qualified, assigned):
            everywhere.update(pattern.findall(code))
        use = imported.search(code)
        if use:
            names = re.findall(r"\b(\w+)\s*:\s*Client\b", code)
            names += re.findall(r"fn\s+(\w+)\s*\([^)]*\)\s*->\s*&\s*Client\b", code)
            per_file[path] = {name: use.group(1) for name in names}
    return everywhere, per_file


def calls_in(src):
    files = {p: without_comment_lines(p.read_text()) for p in sorted(src.rglob("*.rs"))}
    everywhere, per_file = client_names(files)
    calls = []
    for path, code in files.items():
        shown = path.relative_to(src.parent)
        for name, crate in {**everywhere, **per_file.get(path, {})}.items():
            if crate not in PREFIXES:
                continue
            # `.v2.op(`, `.client().await.op(`, across line breaks.
            call = rf"\.\s*{name}\b(?:\s*\(\s*\))?(?:\s*\.\s*await)?\s*\.\s*([a-z][a-z0-9_]*)\s*\("
            for match in re.finditer(call, code):
                action = f"{PREFIXES[crate]}:{pascal(match.group(1))}"
                calls.append(Call(action, match.group(1), shown, line_of(code, match.start(1))))
        for match in ASSUME_ROLE_PROVIDER.finditer(code):
            line = line_of(code, match.start())
            calls.append(Call("sts:AssumeRole", "AssumeRoleProvider", shown, line))
    return calls, files


def named_operations(files, src):
    """Operations the SDK-using code names in strings (the call budget's labels, the
    errors' `service:Action`), outside its tests. Each must be a call found, or the
    regex missed one. (The simulators name operations too, but call none.)"""
    budget = re.compile(r"\.run(?:_as)?\(\s*(?:[\w:]+\s*,\s*)?\"([A-Z][A-Za-z0-9]+)\"")
    prefixed = re.compile(r"\"((?:ses|route53|sts):[A-Z][A-Za-z0-9]+)\"")
    for path, code in files.items():
        if "aws_sdk_" not in code:
            continue
        code = re.split(r"\n#\[cfg\(test\)\]\s*\n\s*mod\s", code)[0]
        where = path.relative_to(src.parent)
        for match in budget.finditer(code):
            yield f"ses:{match.group(1)}", f"{where}:{line_of(code, match.start())}"
        for match in prefixed.finditer(code):
            yield match.group(1), f"{where}:{line_of(code, match.start())}"


def read_policies(iam, problems):
    policies = {}
    for name in POLICIES:
        try:
            policies[name] = json.loads((iam / name).read_text())
        except (OSError, json.JSONDecodeError) as error:
            problems.append(f"{name}: cannot be read: {error}")
    for path in sorted(iam.glob("*.json")):
        if path.name not in POLICIES:
            problems.append(f"{path.name}: a policy this check does not know; add it to POLICIES")
    return policies


def allowed_actions(name, policy, problems):
    """{action.lower(): (action, [statements allowing it])}, less any it denies. A
    wildcard or NotAction is a problem: least privilege spells actions out."""
    statements = policy.get("Statement")
    if policy.get("Version") != "2012-10-17" or not isinstance(statements, list):
        problems.append(f"{name}: needs Version 2012-10-17 and a list of statements")
        return {}
    allowed, denied = {}, set()
    for statement in statements:
        if "NotAction" in statement or "NotResource" in statement:
            sid = statement.get("Sid")
            problems.append(f"{name}: statement {sid!r} uses NotAction or NotResource")
        actions = statement.get("Action", [])
        for action in [actions] if isinstance(actions, str) else actions:
            if "*" in action or "?" in action:
                problems.append(f"{name}: wildcard action {action!r}")
            if statement.get("Effect") == "Allow":
                allowed.setdefault(action.lower(), (action, []))[1].append(statement)
            else:
                denied.add(action.lower())
    return {key: value for key, value in allowed.items() if key not in denied}


def check_principals(name, policy, problems):
    statements = policy.get("Statement", [])
    if name != TRUST:
        if any("Principal" in s for s in statements):
            problems.append(f"{name}: an identity policy names a Principal")
        return
    for statement in statements:
        sid = statement.get("Sid")
        if not statement.get("Principal"):
            problems.append(f"{TRUST}: statement {sid!r} names no principal")
        if not statement.get("Condition", {}).get("StringEquals", {}).get("sts:ExternalId"):
            problems.append(f"{TRUST}: statement {sid!r} asks for no sts:ExternalId")


def check(src, iam):
    problems = []
    calls, files = calls_in(src)
    if not calls:
        return [f"no AWS call found under {src}: have the clients moved?"], calls
    called = {call.action.lower(): call.action for call in calls}
    for operation, where in named_operations(files, src):
        if operation.lower() not in called:
            problems.append(f"{where} names {operation}, but no call to it was found")

    policies = read_policies(iam, problems)
    allowed = {name: allowed_actions(name, p, problems) for name, p in policies.items()}
    for name, policy in policies.items():
        check_principals(name, policy, problems)

    # Every call allowed where it belongs.
    for call in sorted(calls, key=lambda c: (c.action, str(c.path), c.line)):
        if not belongs_in(call.action):
            problems.append(f"{call.where()} calls {call.action}, a service no policy covers")
        for name in belongs_in(call.action):
            if name in allowed and call.action.lower() not in allowed[name]:
                problems.append(f"{name} lacks {call.action}, which {call.where()} calls")

    # Nothing allowed that no call needs, nor where it does not belong.
    dependent = {d.lower(): trigger.lower() for d, trigger in DEPENDENT.items()}
    for name, granted in allowed.items():
        for key, (action, statements) in granted.items():
            if key in called and name not in belongs_in(called[key]):
                home = " and ".join(belongs_in(called[key]))
                problems.append(f"{name} allows {action}, which belongs in {home}")
            elif key not in called and dependent.get(key) not in called:
                problems.append(f"{name} allows {action}, which nothing in src/ calls or needs")
            if name == READ_ONLY and not is_read(action):
                problems.append(f"{READ_ONLY} allows the write {action}")
            if key in {a.lower() for a in NO_RESOURCE_TYPE}:
                if not any(s.get("Resource") in ("*", ["*"]) for s in statements):
                    problems.append(f'{name}: {action} has no resource type: grant it on "*"')
    return problems, calls


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", type=Path, default=ROOT / "src")
    parser.add_argument("--iam", type=Path, default=ROOT / "deploy" / "iam")
    args = parser.parse_args()
    problems, calls = check(args.src.resolve(), args.iam.resolve())
    print("AWS operations called in the source:")
    for action in sorted({c.action for c in calls}):
        print(f"  {action:44} {', '.join(c.where() for c in calls if c.action == action)}")
    for problem in problems:
        print(f"check_iam: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"check_iam: {len(POLICIES)} policies allow every call where it belongs, and no more")
    return 0


if __name__ == "__main__":
    sys.exit(main())
