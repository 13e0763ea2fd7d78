#!/usr/bin/env python3
"""validate-examples.py - the CloudFormation templates of examples/ hold together.

For each examples/*/cloudformation.yml: it parses as YAML with CloudFormation's short-form
tags; every resource has a Type; every !Ref, !GetAtt and ${NAME} of !Sub names a parameter,
a resource or a pseudo parameter; every role a GitHub job assumes trusts the OIDC provider
only with the audience and a sub claim of one repository's environment; no policy allows
"*" actions. Then cfn-lint, when it is installed (it is not a Debian package: pip install
cfn-lint), checks the templates against the resource specifications.
"""
import glob
import os
import re
import shutil
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PSEUDO = {"AWS::AccountId", "AWS::Region", "AWS::Partition", "AWS::StackName", "AWS::StackId",
          "AWS::URLSuffix", "AWS::NoValue", "AWS::NotificationARNs"}


class Tag:
    def __init__(self, tag, value):
        self.tag, self.value = tag, value


def any_tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return Tag(suffix, value)


class Loader(yaml.SafeLoader):
    pass


Loader.add_multi_constructor("!", any_tag)


def walk(node):
    yield node
    if isinstance(node, Tag):
        yield from walk(node.value)
    elif isinstance(node, dict):
        for v in node.values():
            yield from walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from walk(v)


def names_used(node):
    for n in walk(node):
        if isinstance(n, Tag) and n.tag == "Ref":
            yield n.value
        elif isinstance(n, Tag) and n.tag == "GetAtt":
            yield (n.value.split(".")[0] if isinstance(n.value, str) else n.value[0])
        elif isinstance(n, Tag) and n.tag == "Sub":
            text = n.value if isinstance(n.value, str) else n.value[0]
            local = set() if isinstance(n.value, str) else set(n.value[1])
            for m in re.findall(r"\$\{([^}!]+)\}", text):
                name = m.split(".")[0]
                if name not in local:
                    yield name


def check(path):
    errors = []
    t = yaml.load(open(path, encoding="utf-8"), Loader=Loader)
    params, resources = set(t.get("Parameters", {})), t.get("Resources", {})
    known = params | set(resources) | PSEUDO
    for name in sorted(set(names_used(t))):
        if name not in known:
            errors.append(f"{name} is neither a parameter nor a resource")
    for name, r in resources.items():
        if not isinstance(r, dict) or "Type" not in r:
            errors.append(f"resource {name} has no Type")
            continue
        props = r.get("Properties", {})
        if r["Type"] == "AWS::IAM::Role":
            for st in props["AssumeRolePolicyDocument"]["Statement"]:
                if "Federated" in st.get("Principal", {}):
                    cond = st.get("Condition", {}).get("StringEquals", {})
                    sub = cond.get("token.actions.githubusercontent.com:sub")
                    if cond.get("token.actions.githubusercontent.com:aud") != "sts.amazonaws.com" \
                            or not isinstance(sub, Tag) or ":environment:" not in sub.value:
                        errors.append(f"role {name}: the OIDC trust needs aud and a sub of one "
                                      "repository's environment")
            for pol in props.get("Policies", []):
                for st in pol["PolicyDocument"]["Statement"]:
                    actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
                    if any(a == "*" or a.endswith(":*") for a in actions):
                        errors.append(f"role {name}: policy {pol['PolicyName']} allows {actions}")
    return errors


def main():
    status = 0
    paths = sorted(glob.glob(os.path.join(ROOT, "examples", "*", "cloudformation.yml")))
    if not paths:
        print("validate-examples: no templates found", file=sys.stderr)
        return 1
    for p in paths:
        for e in check(p):
            print(f"validate-examples: {os.path.relpath(p, ROOT)}: {e}", file=sys.stderr)
            status = 1
    lint = shutil.which("cfn-lint")
    if lint:
        r = subprocess.run([lint, *paths], capture_output=True, text=True)
        if r.returncode != 0:
            print(r.stdout + r.stderr, file=sys.stderr)
            status = 1
    else:
        print("validate-examples: cfn-lint is not installed (pip install cfn-lint); "
              "the structural checks passed", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
