#!/usr/bin/env python3
"""gen-action-docs.py - the inputs and outputs tables of README.md and docs/action.md,
from action.yml.

    scripts/gen-action-docs.py           rewrite the tables in both
    scripts/gen-action-docs.py --check   exit 1 when either is not current

The tables sit between <!-- inputs:begin --> / <!-- inputs:end --> and
<!-- outputs:begin --> / <!-- outputs:end --> markers; the prose around them is left alone.
"""
import os
import re
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ACTION = os.path.join(ROOT, "action.yml")
DOCS = [os.path.join(ROOT, "README.md"), os.path.join(ROOT, "docs", "action.md")]


def cell(text):
    """One Markdown table cell: a single line, pipes escaped."""
    text = " ".join(str(text).split())
    return text.replace("|", "\\|")


def default_cell(value):
    if value is None or value == "":
        return "*empty*"
    return "`" + cell(value) + "`"


def render(action):
    inputs = ["| input | default | description |", "| --- | --- | --- |"]
    for name, spec in action["inputs"].items():
        inputs.append(
            "| `%s` | %s | %s |"
            % (name, default_cell(spec.get("default")), cell(spec.get("description", "")))
        )
    outputs = ["| output | description |", "| --- | --- |"]
    for name, spec in action["outputs"].items():
        outputs.append("| `%s` | %s |" % (name, cell(spec.get("description", ""))))
    return {"inputs": "\n".join(inputs), "outputs": "\n".join(outputs)}


def splice(doc, tables, name):
    for key, table in tables.items():
        pattern = re.compile(
            r"(<!-- %s:begin -->\n).*?(<!-- %s:end -->)" % (key, key), re.DOTALL
        )
        if not pattern.search(doc):
            sys.exit("gen-action-docs: %s has no <!-- %s:begin/end --> markers" % (name, key))
        doc = pattern.sub(lambda m: m.group(1) + table + "\n" + m.group(2), doc)
    return doc


def main():
    check = sys.argv[1:] == ["--check"]
    with open(ACTION, encoding="utf-8") as f:
        action = yaml.safe_load(f)
    tables = render(action)
    status = 0
    for path in DOCS:
        name = os.path.relpath(path, ROOT)
        with open(path, encoding="utf-8") as f:
            doc = f.read()
        new = splice(doc, tables, name)
        if new == doc:
            continue
        if check:
            print("%s: the inputs/outputs tables are stale (run scripts/gen-action-docs.py)" % name,
                  file=sys.stderr)
            status = 1
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(new)
    return status


if __name__ == "__main__":
    sys.exit(main())
