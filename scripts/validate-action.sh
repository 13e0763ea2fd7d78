#!/usr/bin/env bash
# validate-action.sh - the checks 'make check' runs on the action's metadata.
#
#   action.yml, dist/action.yml and examples/workflows/*.yml pass @action-validator/cli
#   (installed from package-lock.json into node_modules/ on first use);
#   action.yml declares exactly the inputs of DESIGN section 3 (and the rows of the
#   option table src/config_options.c marks as inputs) and the outputs of section 7, each input with a
#   description and a default, and runs the Dockerfile;
#   docs/action.md's inputs/outputs tables are current;
#   examples/*/cloudformation.yml hold together (scripts/validate-examples.py, and cfn-lint
#   when it is installed).
set -euo pipefail
cd "$(dirname "$0")/.."

validator=node_modules/.bin/action-validator
if [ ! -x "$validator" ]; then
  npm install --no-audit --no-fund --loglevel=error >/dev/null
fi

status=0
for f in action.yml dist/action.yml examples/workflows/*.yml; do
  if ! out=$("$validator" "$f" 2>&1); then
    echo "validate-action: $f is not valid" >&2
    printf '%s\n' "$out" | head -40 >&2
    status=1
  fi
done

python3 - <<'PY' || status=1
import re, sys, yaml

inputs = """command migrations-dir format database-url history-schema lock-timeout lock-retries
statement-timeout wait run-lock-wait out-of-order deployed-ref target-version adopt-from
expect-deployed expect-migrations auth aws-region role-to-assume role-session-name audience ssh-bastion
ssh-private-key ssh-known-hosts sslmode sslrootcert report-file reports comment-on-pr github-token
allow-apply-on-pull-request fail-on log-format run-in ecs-cluster ecs-service ecs-task-definition
ecs-container ecs-image ecs-subnets ecs-security-groups ecs-assign-public-ip lambda-function
remote-timeout targets parallel shard fail-fast""".split()
outputs = """status applied-count pending-count applied-versions rolled-back-count rolled-back-versions
deployed-sha report-file targets-count targets-failed targets-blocked targets-error targets-unreachable
targets-locked targets-cancelled targets-skipped targets-applied targets-rolled-back targets-pending
targets-up-to-date targets-no-schemas""".split()

a = yaml.safe_load(open("action.yml", encoding="utf-8"))
errors = []
if list(a["inputs"]) != inputs:
    errors.append("inputs differ from DESIGN section 3: missing %s, extra %s" % (
        sorted(set(inputs) - set(a["inputs"])), sorted(set(a["inputs"]) - set(inputs))))
for name, spec in a["inputs"].items():
    if not spec.get("description"):
        errors.append("input '%s' has no description" % name)
    if "default" not in spec:
        errors.append("input '%s' has no default" % name)
    if spec.get("required"):
        errors.append("input '%s' is required: every input has a default" % name)
if list(a["outputs"]) != outputs:
    errors.append("outputs differ from DESIGN section 7: %s" % list(a["outputs"]))
if a["runs"] != {"using": "docker", "image": "Dockerfile"}:
    errors.append("runs must be exactly using: docker, image: Dockerfile")

# The binary's own option table (src/config_options.c): the rows marked DBM_OPTION_INPUT are
# exactly the inputs, in the same order.
src = open("src/config_options.c", encoding="utf-8").read()
table = [name for name, rest in re.findall(r'\{"([a-z0-9-]+)",((?:[^{}]|\{[^{}]*\})*)\}', src)
         if re.search(r'\bINPUT\b', rest)]
if table != inputs:
    errors.append("inputs differ from the rows of src/config_options.c marked INPUT: missing %s, "
                  "extra %s" % (sorted(set(inputs) - set(table)), sorted(set(table) - set(inputs))))

for e in errors:
    print("validate-action: action.yml: " + e, file=sys.stderr)
sys.exit(1 if errors else 0)
PY

# One name for the action in the docs and examples: every step that uses it names
# db-migrate/db-migrate/dist@vX, X the major of VERSION, a tag each release publishes
# (scripts/gen-dist.sh --tag); and its database-url is never localhost, which inside the
# action's container is the container itself (docs/pull-requests.md).
python3 - <<'PY' || status=1
import glob, re, sys

major = "v" + open("VERSION").read().strip().split(".")[0]
want = "db-migrate/db-migrate/dist@" + major
errors = []
for path in ["README.md"] + sorted(glob.glob("docs/*.md")) + sorted(glob.glob("examples/**/*.yml", recursive=True)):
    lines = open(path, encoding="utf-8").read().split("\n")
    for n, line in enumerate(lines, 1):
        m = re.match(r"^(\s*)(?:- )?(?:uses|- uses):\s*(\S+)", line)
        if not m or m.group(2).startswith(("actions/", "aws-actions/", "docker://")):
            continue
        if m.group(2) != want:
            errors.append("%s:%d: uses %s; the action is %s" % (path, n, m.group(2), want))
            continue
        for k in range(n, min(n + 25, len(lines))):
            if re.match(r"^\s*-\s", lines[k]) and len(lines[k]) - len(lines[k].lstrip()) <= len(m.group(1)):
                break
            if re.search(r"database-url:.*@(localhost|127\.0\.0\.1)[:/]", lines[k]):
                errors.append("%s:%d: the action's database-url is localhost, its own container "
                              "(use the service's name)" % (path, k + 1))
for e in errors:
    print("validate-action: " + e, file=sys.stderr)
sys.exit(1 if errors else 0)
PY

python3 scripts/gen-action-docs.py --check || status=1
python3 scripts/validate-examples.py || status=1
exit $status
