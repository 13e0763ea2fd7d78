#!/usr/bin/env bash
# check-layers.sh - lower folders of src/ never include higher ones.
#
# The order (README "Development", STYLE "Layout shows the architecture"):
#   common < sql, migration, net < postgres, git < report < config < command < main
# A file may include headers of its own folder, of a folder of the same rank, and of lower
# folders. Prints each offending include as FILE:LINE and exits 1; exits 0 when none.
set -eu
cd "$(dirname "$0")/.."
python3 - <<'PY'
import os, re, sys

RANK = {"common": 0, "sql": 1, "migration": 1, "net": 1, "postgres": 2, "git": 2,
        "report": 3, "config": 4, "config_file": 4, "config_help": 4, "config_options": 4,
        "config_remote": 4, "config_fleet": 4, "command": 5,
        "main": 6}

def layer(path):
    """The layer of a path relative to src/: its folder, or the file's stem at the top."""
    parts = path.split("/")
    if len(parts) == 1:
        return os.path.splitext(parts[0])[0]
    return parts[0]

bad = 0
for root, _, files in os.walk("src"):
    for name in sorted(files):
        if not name.endswith((".c", ".h")):
            continue
        path = os.path.join(root, name)
        rel = os.path.relpath(path, "src")
        src = layer(rel)
        if src not in RANK:
            print("%s: folder '%s' has no place in the layer order (scripts/check-layers.sh)" % (path, src))
            bad += 1
            continue
        for n, line in enumerate(open(path, encoding="utf-8"), 1):
            m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
            if not m:
                continue
            inc = m.group(1)
            if "/" not in inc and not os.path.exists(os.path.join("src", inc)):
                print('%s:%d: include "%s" names no folder' % (path, n, inc))
                bad += 1
                continue
            dst = layer(inc)
            if dst not in RANK:
                print('%s:%d: include "%s": no such layer' % (path, n, inc))
                bad += 1
            elif RANK[dst] > RANK[src]:
                print('%s:%d: %s includes "%s": %s is above %s' % (path, n, src, inc, dst, src))
                bad += 1
if bad:
    print("lint: %d include(s) break the layer order" % bad)
    sys.exit(1)
PY
