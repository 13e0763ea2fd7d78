#!/usr/bin/env bats
# --version, and the shell completions and the man page that --generate writes from the
# command and option tables: each is exercised the way a shell or man reads it.

load helpers

setup() {
  unset_github_env
  unset DATABASE_URL
  new_workdir
  # The commands and flags as --help lists them: the lists every output must cover.
  COMMANDS=$("$DBM" --help | sed -n '/^commands:/,/^$/{s/^  \([a-z-]*\).*/\1/p}')
  OPTIONS=$("$DBM" --help | grep -o '^  --[a-z-]*' | sed 's/^  //')
  [ "$(wc -w <<<"$COMMANDS")" -ge 10 ]
  [ "$(wc -w <<<"$OPTIONS")" -ge 38 ]
}

# complete WORD...: COMPREPLY of the bash completion for the command line WORD... (the last
# word being completed), one a line.
complete_bash() {
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _db_migrate
    printf "%s\n" "${COMPREPLY[@]}"' _ "$WORK/db-migrate.bash" "$@"
}

@test "--version names each linked library with the version it reports at run time" {
  run_dbm 0 --version
  [ "${lines[0]}" = "db-migrate $(cat "$BATS_TEST_DIRNAME/../../VERSION")" ]
  v() { sed -n "s/^$1 \([^ ]*\).*/\1/p" <<<"$output"; }
  [ "$(v libpq)" = "$(pkg-config --modversion libpq)" ]
  [ "$(v libgit2)" = "$(pkg-config --modversion libgit2)" ]
  [ "$(v libcurl)" = "$(pkg-config --modversion libcurl)" ]
  [ "$(v Jansson)" = "$(pkg-config --modversion jansson)" ]
  [ "$(v libssh2)" = "$(pkg-config --modversion libssh2)" ]
  [ "$(v libyaml)" = "$(pkg-config --modversion yaml-0.1)" ]
  [ "$(v expat)" = "$(pkg-config --modversion expat)" ]
  [ "$(v OpenSSL)" = "$(pkg-config --modversion libcrypto)" ]
  # libpq as the loaded library itself answers, asked through ctypes
  pq=$(python3 -c 'import ctypes; print(ctypes.CDLL("libpq.so.5").PQlibVersion())')
  [ "$(v libpq)" = "$((pq / 10000)).$((pq % 10000))" ]
  # libpg_query: the PostgreSQL version of the parser it was built from
  pgq=$(sed -n 's/^#define PG_VERSION "\(.*\)"/\1/p' "$("$BATS_TEST_DIRNAME/../../scripts/libpg-query.sh")/include/pg_query.h")
  [ "$(v libpg_query)" = "$pgq" ]
  [ "${#lines[@]}" -eq 10 ]
  # --version reads no config file: a broken one does not stop it
  echo 'nonsense: [' >"$WORK/db-migrate.yml"
  run_dbm 0 --version --config "$WORK/db-migrate.yml"
}

@test "--version says which library could not be loaded, and still exits 0" {
  # A libcurl that is not a library: dlopen fails and --version says why.
  mkdir "$WORK/lib"
  echo 'not a library' >"$WORK/lib/libcurl.so.4"
  LD_LIBRARY_PATH=$WORK/lib run_dbm 0 --version
  [[ "$output" == *"libcurl not loaded: unable to load libcurl"* ]]
  [[ "$output" == *"libpq $(pkg-config --modversion libpq)"* ]]
}

@test "bash completion: commands, options, enumerated values and directories" {
  "$DBM" --generate completion-bash >"$WORK/db-migrate.bash"
  bash -n "$WORK/db-migrate.bash"
  [ "$(complete_bash db-migrate ap)" = apply ]
  [ "$(complete_bash db-migrate r | tr '\n' ' ')" = "rollback repair report " ]
  [ "$(complete_bash db-migrate '' | sort)" = "$(sort <<<"$COMMANDS")" ]
  [ "$(complete_bash db-migrate -- | sort)" = "$(sort <<<"$OPTIONS")" ]
  [ "$(complete_bash db-migrate --migr)" = --migrations-dir ]
  [ "$(complete_bash db-migrate --format d | tr '\n' ' ')" = "dbmate diesel drizzle " ]
  [ "$(complete_bash db-migrate --log-format '' | tr '\n' ' ')" = "text json " ]
  [ "$(complete_bash db-migrate plan --fail-on w)" = warning ]
  [ "$(complete_bash db-migrate --out-of-order '' | tr '\n' ' ')" = "error allow " ]
  [ "$(complete_bash db-migrate --auth a)" = aws-iam ]
  [ "$(complete_bash db-migrate --comment-on-pr '' | tr '\n' ' ')" = "true false " ]
  # --name=value, split at '=' as bash does by default, or kept whole
  [ "$(complete_bash db-migrate --format = gol)" = golang-migrate ]
  [ "$(complete_bash db-migrate --sslmode=verify-f)" = --sslmode=verify-full ]
  # an option's value is not the command word; after the command, no second command
  [ "$(complete_bash db-migrate --format dbmate ap)" = apply ]
  [ "$(complete_bash db-migrate --comment-on-pr true ap)" = apply ]
  [ -z "$(complete_bash db-migrate apply '')" ]
  # --migrations-dir offers directories only
  mkdir -p "$WORK/dbmig/migrations" "$WORK/dbmig/docs"
  touch "$WORK/dbmig/dump.sql"
  cd "$WORK/dbmig"
  [ "$(complete_bash db-migrate --migrations-dir d)" = docs ]
  [ "$(complete_bash db-migrate --migrations-dir '' | sort | tr '\n' ' ')" = "docs migrations " ]
  [ "$(complete_bash db-migrate --config du)" = dump.sql ]
}

@test "zsh completion: valid zsh that completes commands, values and directories" {
  command -v zsh || skip "zsh is not installed (scripts/deps.sh test installs it)"
  mkdir "$WORK/zfunc"
  "$DBM" --generate completion-zsh >"$WORK/zfunc/_db-migrate"
  zsh -n "$WORK/zfunc/_db-migrate"
  zc() { timeout 30 zsh -f "$BATS_TEST_DIRNAME/zsh-complete.zsh" "$WORK/zfunc" "$*" | sort -u; }
  [ "$(zc db-migrate ap)" = apply ]
  [ "$(zc db-migrate dry)" = dry-run ]
  [ "$(zc db-migrate --format=gol)" = golang-migrate ]
  [ "$(zc db-migrate plan --fail-on '' | tr '\n' ' ')" = "error never warning " ]
  [ "$(zc db-migrate --log-f)" = --log-format ]
  mkdir -p "$WORK/dbmig/migrations" "$WORK/dbmig/mail.txt.d"
  touch "$WORK/dbmig/main.sql"
  cd "$WORK/dbmig"
  [ "$(zc db-migrate --migrations-dir m | tr '\n' ' ')" = "mail.txt.d migrations " ]
  # every command and option is offered
  [ "$(zc db-migrate '')" = "$(sort -u <<<"$COMMANDS")" ]
  [ "$(zc db-migrate -- | sort -u)" = "$(sort -u <<<"$OPTIONS")" ]
}

@test "report FILE... completes JSON reports and directories, in bash and zsh" {
  mkdir -p "$WORK/reps/shards" "$WORK/reps/logs"
  touch "$WORK/reps/shard1.json" "$WORK/reps/shard2.json" "$WORK/reps/notes.txt" "$WORK/reps/shards/3.json"
  "$DBM" --generate completion-bash >"$WORK/db-migrate.bash"
  cd "$WORK/reps"
  [ "$(complete_bash db-migrate report '' | tr '\n' ' ')" = "logs shard1.json shard2.json shards " ]
  [ "$(complete_bash db-migrate report sh | tr '\n' ' ')" = "shard1.json shard2.json shards " ]
  [ "$(complete_bash db-migrate report shards/ | tr '\n' ' ')" = "shards/3.json " ]
  # after a first file, after options, and with an option's value before the command
  [ "$(complete_bash db-migrate report shard1.json shard2 | tr '\n' ' ')" = "shard2.json " ]
  [ "$(complete_bash db-migrate --format dbmate report --verbose shard2 | tr '\n' ' ')" = "shard2.json " ]
  [ "$(complete_bash db-migrate report --verb)" = --verbose ]
  # a command that reads no files offers none
  [ -z "$(complete_bash db-migrate apply '')" ]
  [ -z "$(complete_bash db-migrate new '')" ]

  command -v zsh || skip "zsh is not installed (scripts/deps.sh test installs it)"
  mkdir "$WORK/zfunc"
  "$DBM" --generate completion-zsh >"$WORK/zfunc/_db-migrate"
  zc() { timeout 30 zsh -f "$BATS_TEST_DIRNAME/zsh-complete.zsh" "$WORK/zfunc" "$*" | sort -u; }
  [ "$(zc db-migrate report '' | tr '\n' ' ')" = "logs shard1.json shard2.json shards " ]
  [ "$(zc db-migrate report shard1.json sh | tr '\n' ' ')" = "shard1.json shard2.json shards " ]
  [ "$(zc db-migrate --format dbmate report --verbose sh | tr '\n' ' ')" = "shard1.json shard2.json shards " ]
  [ "$(zc db-migrate report --verb)" = --verbose ]
  [ -z "$(zc db-migrate apply '')" ]
}

@test "the man page passes mandoc's lint and lists every command and option" {
  command -v mandoc || skip "mandoc is not installed (scripts/deps.sh test installs it)"
  SOURCE_DATE_EPOCH=1764892800 "$DBM" --generate man >"$WORK/db-migrate.1"
  grep -q '^\.TH DB\\-MIGRATE 1 2025-12-05 "db\\-migrate ' "$WORK/db-migrate.1"
  run mandoc -Tlint -W all "$WORK/db-migrate.1"
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  groff -man -ww -z "$WORK/db-migrate.1"
  text=$(mandoc -Tascii "$WORK/db-migrate.1" | col -b)
  for c in $COMMANDS; do
    grep -qE "^       $c( |$)" <<<"$text" || { echo "man page lacks command $c"; false; }
  done
  for o in $OPTIONS; do
    grep -qE "^       $o( |$)" <<<"$text" || { echo "man page lacks option $o"; false; }
  done
  grep -q 'EXIT STATUS' <<<"$text"
}

@test "--generate takes completion-bash, completion-zsh or man, and reads no config file" {
  run_dbm 2 --generate fish
  [ "${lines[0]}" = "error: invalid value 'fish' for generate" ]
  [ "${lines[1]}" = "hint: use one of: completion-bash, completion-zsh, man" ]
  echo 'nonsense: [' >"$WORK/db-migrate.yml"
  cd "$WORK"
  run_dbm 0 --generate man
  # the README tells users to run it: --help lists it
  run_dbm 0 --help
  [[ "$output" == *"--generate WHAT"*"completion-bash"* ]]
}
