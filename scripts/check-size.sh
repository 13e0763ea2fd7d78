#!/usr/bin/env bash
# check-size.sh - no source file over 700 lines, no function over 80.
#
# Functions are found in clang-formatted C: a definition starts at a line in
# column 0 that is not a comment, preprocessor line or declaration, and whose
# body opens with "{" alone in column 0; it ends at the next "}" in column 0.
# Table-like functions (a switch or initializer that is one entry a line) are
# listed in ALLOW below, each with its reason. Exits 1 when something is over.
set -eu
cd "$(dirname "$0")/.."
python3 - "$@" <<'PY'
import os, re, sys

MAX_FILE, MAX_FUNC = 700, 80
# function name -> why it may be longer (table-like: one entry a line)
ALLOW = {
}

bad = 0
report_only = "--report" in sys.argv
for root, _, files in os.walk("src"):
    for name in sorted(files):
        if not name.endswith((".c", ".h")):
            continue
        path = os.path.join(root, name)
        lines = open(path, encoding="utf-8").read().split("\n")
        if len(lines) - 1 > MAX_FILE:
            print("%s: %d lines (over %d)" % (path, len(lines) - 1, MAX_FILE))
            bad += 1
        start = None
        for i, line in enumerate(lines):
            if line == "{" and i > 0:
                # the signature may span lines: walk back to its first line
                j = i - 1
                while j > 0 and lines[j - 1] and not lines[j - 1].endswith((";", "}", "*/")) \
                        and not lines[j - 1].startswith(("#", "/", " *")) and lines[j][0:1] in (" ", "\t"):
                    j -= 1
                m = re.search(r"(\w+)\s*\(", lines[j])
                start = (j, m.group(1) if m else "?")
            elif line == "}" and start:
                n = i - start[0] + 1
                if n > MAX_FUNC and start[1] not in ALLOW:
                    print("%s:%d: %s is %d lines (over %d)" % (path, start[0] + 1, start[1], n, MAX_FUNC))
                    bad += 1
                start = None
if bad and not report_only:
    print("size: %d file(s) or function(s) too long" % bad)
    sys.exit(1)
PY
