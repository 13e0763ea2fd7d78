#!/usr/bin/env bats
# RDS IAM authentication end to end: db-migrate takes the job's OIDC token,
# assumes a role with STS (a local fixture that checks each request exactly),
# signs an RDS auth token and connects with it to a real PostgreSQL.
# The server cannot check an RDS token, so "trust" proves the connection path
# and a SCRAM-only user proves what happens when the token is refused.

load helpers

ROLE=arn:aws:iam::123456789012:role/deploy
JWT=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmFjbWUvYXBwIn0.c2lnbmF0dXJl
REQ_TOKEN=request-token-for-oidc-0123456789
SECRET=wJalrXUtnFEMI/K7MDENG/bPxRfiCYsecretKEY
SESSION=FwoGZXIvYXdzEHYaDsessiontoken0123456789

setup_file() {
  pg_start
  psql -X -q "$PGTEST_URL_BASE/postgres" -c "CREATE ROLE iam_app LOGIN SUPERUSER" \
    -c "CREATE ROLE iam_pw LOGIN PASSWORD 'not-a-token'"
  # iam_pw must prove a password; everyone else is trusted.
  sed -i '1i host all iam_pw 127.0.0.1/32 scram-sha-256' "$PGTEST_DIR/data/pg_hba.conf"
  pg_reload
}
teardown_file() { pg_stop; }

setup() {
  unset_github_env
  new_db
  new_workdir
  printf 'CREATE TABLE from_iam (id int);\n' > migrations/001_a.sql
  unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_WEB_IDENTITY_TOKEN_FILE \
    AWS_ROLE_ARN AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_CREDENTIALS_FULL_URI \
    AWS_ENDPOINT_URL AWS_PROFILE AWS_REGION AWS_DEFAULT_REGION
  # Only the test's own shared files, never the developer's ~/.aws.
  export AWS_CONFIG_FILE=$WORK/aws/config AWS_SHARED_CREDENTIALS_FILE=$WORK/aws/credentials
}

# fixture_start SCENARIO_JSON: the fixture on an ephemeral port; sets FIXTURE_URL.
fixture_start() {
  printf '%s' "$1" > "$WORK/scenario.json"
  mkfifo "$WORK/fixture.in"
  python3 "$REPO_ROOT/tests/fixtures/aws_fixture.py" "$WORK/scenario.json" \
    < "$WORK/fixture.in" > "$WORK/fixture.port" 2> "$WORK/fixture.err" &
  FIXTURE_PID=$!
  exec {FIXTURE_FD}> "$WORK/fixture.in"
  for _ in $(seq 50); do [ -s "$WORK/fixture.port" ] && break; sleep 0.1; done
  FIXTURE_URL="http://127.0.0.1:$(cat "$WORK/fixture.port")"
}

# fixture_check: stop the fixture; fail unless every request came, in order, exactly.
fixture_check() {
  exec {FIXTURE_FD}>&-
  if ! wait "$FIXTURE_PID"; then cat "$WORK/fixture.err" >&2; return 1; fi
}

scenario() {
  local sts_reply=$1
  cat <<JSON
[{"method": "GET", "path": "/oidc/token", "query": {"api-version": "2.0", "audience": "sts.amazonaws.com"},
  "headers": {"Authorization": "bearer $REQ_TOKEN"}, "reply": {"status": 200, "oidc_token": "$JWT"}},
 {"method": "POST", "path": "/", "form": {"Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15",
   "RoleArn": "$ROLE", "RoleSessionName": "db-migrate", "WebIdentityToken": "$JWT", "DurationSeconds": "900"},
  "absent_headers": ["Authorization"], "reply": $sts_reply}]
JSON
}

oidc_env() {
  export ACTIONS_ID_TOKEN_REQUEST_URL="$FIXTURE_URL/oidc/token?api-version=2.0"
  export ACTIONS_ID_TOKEN_REQUEST_TOKEN=$REQ_TOKEN AWS_ENDPOINT_URL_STS=$FIXTURE_URL
}

@test "apply with auth aws-iam assumes the role with the OIDC token and connects with an RDS token" {
  fixture_start "$(scenario "{\"status\": 200, \"sts_credentials\": {\"AccessKeyId\": \"ASIAEXAMPLEKEY\", \"SecretAccessKey\": \"$SECRET\", \"SessionToken\": \"$SESSION\"}}")"
  oidc_env
  export GITHUB_ACTIONS=true
  run_dbm 0 apply --auth aws-iam --aws-region eu-west-1 --role-to-assume "$ROLE" \
    --sslmode disable --database-url "postgresql://iam_app@127.0.0.1:$PGTEST_PORT/$DBNAME"
  fixture_check
  [ "$(sql "SELECT to_regclass('from_iam') IS NOT NULL")" = t ]
  # Every secret is masked before anything else could print it, and never printed itself.
  [[ "$output" == *"::add-mask::$SECRET"* && "$output" == *"::add-mask::$SESSION"* ]]
  [[ "$output" == *"::add-mask::127.0.0.1:$PGTEST_PORT/?Action=connect&DBUser=iam_app&X-Amz-"* ]]
  [ "$(printf '%s\n' "$output" | grep -v '^::add-mask::' | grep -c -e "$SECRET" -e "$SESSION" -e "$JWT")" = 0 ]
  # The token is what libpq sent: the server saw a connection from iam_app by db-migrate.
  [ "$(sql "SELECT db_user FROM db_migrate.runs")" = iam_app ]
}

@test "a refused IAM token exits 3 with one line and the rds_iam hint" {
  fixture_start "$(scenario "{\"status\": 200, \"sts_credentials\": {\"AccessKeyId\": \"ASIAEXAMPLEKEY\", \"SecretAccessKey\": \"$SECRET\", \"SessionToken\": \"$SESSION\"}}")"
  oidc_env
  run_dbm 3 apply --auth aws-iam --aws-region eu-west-1 --role-to-assume "$ROLE" \
    --sslmode disable --database-url "postgresql://iam_pw@127.0.0.1:$PGTEST_PORT/$DBNAME"
  fixture_check
  [[ "${lines[0]}" == "error: unable to connect to 'iam_pw@127.0.0.1:$PGTEST_PORT/$DBNAME': "*"password authentication failed"* ]]
  [[ "$output" == *"GRANT rds_iam"* ]]
  [[ "$output" != *"X-Amz-Signature"* ]]
}

@test "STS refusing the role exits 3 with STS's own message" {
  fixture_start "$(scenario '{"status": 403, "sts_error": {"Code": "AccessDenied", "Message": "Not authorized to perform sts:AssumeRoleWithWebIdentity"}}')"
  oidc_env
  run_dbm 3 apply --auth aws-iam --aws-region eu-west-1 --role-to-assume "$ROLE" \
    --database-url "postgresql://iam_app@127.0.0.1:$PGTEST_PORT/$DBNAME"
  fixture_check
  [[ "$output" == *"AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity"* ]]
  [ "$(sql "SELECT to_regclass('db_migrate.runs') IS NULL")" = t ]
}

@test "a job without id-token: write gets a configuration error that says so" {
  run_dbm 2 apply --auth aws-iam --aws-region eu-west-1 --role-to-assume "$ROLE" \
    --database-url "postgresql://iam_app@127.0.0.1:$PGTEST_PORT/$DBNAME"
  [[ "$output" == *"id-token: write"* ]]
}

# A laptop: AWS_PROFILE names a role profile in ~/.aws/config whose
# source_profile's keys are in ~/.aws/credentials; the region is the profile's.
SRC_AKID=AKIALAPTOPUSER000001
SRC_SECRET=laptopUserSecret/Key+0123456789abcdefghij

aws_files() {
  mkdir -p "$WORK/aws"
  cat > "$WORK/aws/config" <<EOF
[default]
region = us-east-1

# the deploy role, from the laptop user's keys
[profile  deploy ]
role_arn = $ROLE
source_profile = me
region = eu-central-1

[profile broken]
credential_process = sh -c 'echo "Error when retrieving token from sso: Token has expired and refresh failed" >&2; exit 255'
EOF
  cat > "$WORK/aws/credentials" <<EOF
[me]
aws_access_key_id = $SRC_AKID
aws_secret_access_key = $SRC_SECRET
EOF
}

@test "AWS_PROFILE with role_arn assumes the role signed with the source profile's keys" {
  aws_files
  fixture_start "[{\"method\": \"POST\", \"path\": \"/\", \"form\": {\"Action\": \"AssumeRole\", \"Version\": \"2011-06-15\",
    \"RoleArn\": \"$ROLE\", \"RoleSessionName\": \"db-migrate\", \"DurationSeconds\": \"900\"},
    \"sigv4\": {\"access_key_id\": \"$SRC_AKID\", \"secret_access_key\": \"$SRC_SECRET\", \"region\": \"eu-central-1\", \"service\": \"sts\"},
    \"reply\": {\"status\": 200, \"sts_action\": \"AssumeRole\", \"sts_credentials\": {\"AccessKeyId\": \"ASIAEXAMPLEKEY\", \"SecretAccessKey\": \"$SECRET\", \"SessionToken\": \"$SESSION\"}}}]"
  export AWS_ENDPOINT_URL_STS=$FIXTURE_URL AWS_PROFILE=deploy GITHUB_ACTIONS=true
  run_dbm 0 apply --auth aws-iam --sslmode disable \
    --database-url "postgresql://iam_app@127.0.0.1:$PGTEST_PORT/$DBNAME"
  fixture_check
  [ "$(sql "SELECT to_regclass('from_iam') IS NOT NULL")" = t ]
  # The token was signed for the profile's region (% is %25 in a workflow command).
  [[ "$output" == *"::add-mask::127.0.0.1:$PGTEST_PORT/?Action=connect&DBUser=iam_app&X-Amz-"*"%252Feu-central-1%252Frds-db%252F"* ]]
  [[ "$output" == *"::add-mask::$SRC_SECRET"* && "$output" == *"::add-mask::$SECRET"* ]]
  [ "$(printf '%s\n' "$output" | grep -v '^::add-mask::' | grep -c -e "$SRC_SECRET" -e "$SECRET" -e "$SESSION")" = 0 ]
}

@test "a failing credential_process exits 2 with the first line of its stderr" {
  aws_files
  export AWS_PROFILE=broken
  run_dbm 2 apply --auth aws-iam --aws-region eu-west-1 \
    --database-url "postgresql://iam_app@127.0.0.1:$PGTEST_PORT/$DBNAME"
  [ "${lines[0]}" = "error: the credential_process of aws profile 'broken' failed (exit 255): Error when retrieving token from sso: Token has expired and refresh failed" ]
  [[ "${lines[1]}" == "hint: "*"log in again"* ]]
  [ "$(sql "SELECT to_regclass('db_migrate.runs') IS NULL")" = t ]
}

@test "an AWS_PROFILE that is in neither file exits 2 naming it and the files" {
  aws_files
  export AWS_PROFILE=prod
  run_dbm 2 apply --auth aws-iam \
    --database-url "postgresql://iam_app@127.0.0.1:$PGTEST_PORT/$DBNAME"
  [ "${lines[0]}" = "error: the aws profile 'prod' (AWS_PROFILE) is not in '$WORK/aws/config' or '$WORK/aws/credentials'" ]
  [[ "$output" == *"aws configure --profile prod"* ]]
}
