#!/usr/bin/env python3
"""soak.py - concurrent runners applying one migration set under random kills, then checks.

Run by bench/soak.sh (make soak), which starts the server and the proxy and passes:

  soak.py BIN DIRECT_URL PROXY_URL CONTROL_PORT WORKDIR

DIRECT_URL and PROXY_URL are server URLs without a database (postgresql://user@host:port);
the runners connect through the proxy (bench/soakproxy.py, commands on CONTROL_PORT), the
checks connect directly. Settings come from the environment: SOAK_SECONDS, SOAK_RUNNERS,
SOAK_MIGRATIONS, SOAK_SEED, SOAK_KILL_EVERY (mean seconds between kills), SOAK_POOLER_URL
(a PgBouncer in transaction mode that SOAK_POOLED runners of the 8 go through instead).

The soak runs in rounds, each on a fresh database: every runner applies the set in a loop
until it finds it up to date, while a chaos thread kills at random (the client with
SIGKILL, the runner's backend with pg_terminate_backend, every connection through the proxy
at once, or a blackhole that freezes the network then resets it). Then chaos stops, one
clean apply runs, and the invariants are checked: every migration recorded once as applied
and run once (its ledger row), the schema the history claims, no failed or open rows, no
lock or lease left, no session left behind. Exit 1 with the differences when one fails.
"""
import collections
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time

EXPECTED_EXITS = {0, 1, 3, 4}  # done, a migration failed (its connection cut), no connection, lock wait


def env_int(name, default):
    return int(os.environ.get(name) or default)


def log(msg):
    print(time.strftime("%H:%M:%S ") + msg, flush=True)


# --- the migration set ---------------------------------------------------------------------


def generate(d, n, rng):
    """Write n migrations to d; return {version: [(kind, name, extra)]} of the objects each makes.

    Every migration inserts its version into public.soak_ledger (no unique constraint), so a
    migration that ran twice shows as two rows. Kinds: plain transactional files (tables,
    columns, functions and views, data), multi-statement ones with a pause that kills land
    in, files that run their own BEGIN/COMMIT, large files (the one-statement-at-a-time path),
    and files outside a transaction with CREATE INDEX CONCURRENTLY.
    """
    os.makedirs(d, exist_ok=True)
    expect = {}
    tables = []
    for i in range(1, n + 1):
        v = f"{i:04d}"
        ledger = f"INSERT INTO public.soak_ledger (version) VALUES ('{v}');\n"
        pause = f"SELECT pg_sleep({rng.choice([0.05, 0.1, 0.2, 0.4])});\n" if rng.random() < 0.35 else ""
        objs = []
        if i == 1:
            kind = "big"
            body = ("CREATE TABLE soak_big (id bigint PRIMARY KEY, a int NOT NULL, b text);\n"
                    "INSERT INTO soak_big SELECT g, g % 997, md5(g::text) FROM generate_series(1, 200000) g;\n"
                    + ledger)
            objs.append(("table", "soak_big", None))
        elif i % 10 == 5:
            kind = "concurrently"
            col = rng.choice(["a", "b", "(a + 1)", "lower(b)", "a, b"])
            body = ("-- migrate:no-transaction\n" + pause +
                    f"CREATE INDEX CONCURRENTLY soak_ix_{v} ON soak_big ({col});\n" + ledger)
            objs.append(("index", f"soak_ix_{v}", None))
        elif i % 25 == 7:
            kind = "as-written"
            body = (f"BEGIN;\nCREATE TABLE soak_t_{v} (id int PRIMARY KEY, note text);\n"
                    f"INSERT INTO soak_t_{v} SELECT g, 'row ' || g FROM generate_series(1, 50) g;\n"
                    + pause + ledger + "COMMIT;\n")
            objs.append(("table", f"soak_t_{v}", 50))
            tables.append(f"soak_t_{v}")
        elif i % 50 == 13:
            kind = "large"
            rows = "".join(f"INSERT INTO soak_t_{v} VALUES ({k}, 'line {k} of a large migration');\n"
                           for k in range(1, 2001))
            body = f"CREATE TABLE soak_t_{v} (id int PRIMARY KEY, note text);\n" + rows + pause + ledger
            objs.append(("table", f"soak_t_{v}", 2000))
            tables.append(f"soak_t_{v}")
        elif tables and i % 4 == 2:
            kind = "alter"
            t = rng.choice(tables)
            body = (f"ALTER TABLE {t} ADD COLUMN c_{v} int NOT NULL DEFAULT {i};\n"
                    f"UPDATE soak_counter SET n = n + 1;\n" + pause + ledger)
            objs.append(("column", t, f"c_{v}"))
        elif i % 4 == 3:
            kind = "function-view"
            body = (f"CREATE FUNCTION soak_f_{v}() RETURNS int LANGUAGE plpgsql AS $$\n"
                    f"BEGIN\n    PERFORM 1;\n    RETURN {i};\nEND;\n$$;\n"
                    f"CREATE VIEW soak_v_{v} AS SELECT soak_f_{v}() AS x;\n"
                    f"COMMENT ON VIEW soak_v_{v} IS 'view; of migration {v}';\n" + pause + ledger)
            objs.append(("function", f"soak_f_{v}", None))
            objs.append(("view", f"soak_v_{v}", None))
        else:
            kind = "table"
            body = (f"CREATE TABLE soak_t_{v} (id bigserial PRIMARY KEY, v int NOT NULL, note text);\n"
                    f"INSERT INTO soak_t_{v} (v) SELECT g FROM generate_series(1, {i}) g;\n"
                    + pause + f"CREATE INDEX soak_t_{v}_v ON soak_t_{v} (v);\n" + ledger)
            objs.append(("table", f"soak_t_{v}", i))
            objs.append(("index", f"soak_t_{v}_v", None))
            tables.append(f"soak_t_{v}")
        with open(os.path.join(d, f"{v}_{kind.replace('-', '_')}.sql"), "w") as f:
            f.write(body)
        expect[v] = objs
    return expect


# --- the database, through psql -------------------------------------------------------------


def psql(url, sql, check=True):
    p = subprocess.run(["psql", "-X", "-q", "-At", "-F", "|", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
                       capture_output=True, text=True, timeout=120)
    if check and p.returncode != 0:
        raise RuntimeError(f"psql failed: {p.stderr.strip()} (query: {sql[:200]})")
    return [line.split("|") for line in p.stdout.splitlines() if line]


def with_params(url, **params):
    return url + ("&" if "?" in url else "?") + "&".join(f"{k}={v}" for k, v in params.items())


# --- chaos ----------------------------------------------------------------------------------


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.runs = 0
        self.exits = collections.Counter()
        self.kills = collections.Counter()
        self.causes = collections.Counter()  # of exit 1
        self.repairs = []
        self.findings = {}  # the finding with its run names and log paths taken out -> [first text, count]
        self.hung = 0

    def add(self, counter, key, n=1):
        with self.lock:
            getattr(self, counter)[key] += n

    def finding(self, text):
        key = re.sub(r"soak-r\d+-w\d+-i\d+", "RUN", re.sub(r" \(log [^)]*\)", "", text))
        with self.lock:
            seen = self.findings.setdefault(key, [text, 0])
            seen[1] += 1
        if seen[1] == 1:
            log("FINDING: " + text)


class Round:
    """One database, SOAK_RUNNERS runners applying to it until each finds it up to date."""

    def __init__(self, soak, number):
        self.soak = soak
        self.number = number
        self.db = f"soak_r{number}"
        self.procs = {}  # runner -> Popen
        self.procs_lock = threading.Lock()
        self.active = 0  # runs started and not yet looked at
        self.done = set()
        self.gate = threading.Event()  # set: runners may start invocations
        self.gate.set()
        self.stop = threading.Event()
        self.repair_wanted = threading.Event()
        self.to_repair = set()  # versions whose runs asked for `db-migrate repair`
        self.invocation = 0

    def runner_url(self, r):
        s = self.soak
        base = s.pooler_url if r < s.pooled else s.proxy_url
        return f"{base}/{self.db}"

    def runner(self, r):
        s = self.soak
        while not self.stop.is_set() and r not in self.done:
            self.gate.wait()
            if self.stop.is_set():
                break
            with self.procs_lock:
                # The gate is checked again under the lock: quiesce() sees every run under way.
                if not self.gate.is_set():
                    continue
                self.active += 1
                self.invocation += 1
                app = f"soak-r{self.number}-w{r}-i{self.invocation}"
            url = with_params(self.runner_url(r), sslmode="disable", application_name=app)
            cmd = [s.bin, "apply", "--migrations-dir", s.mdir, "--database-url", url,
                   "--run-lock-wait", "3m", "--lock-timeout", "30s"]
            out_path = os.path.join(s.work, "out", f"{app}.log")
            with open(out_path, "w") as out:
                p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=s.env)
            with self.procs_lock:
                self.procs[r] = (p, app)
            try:
                code = p.wait(timeout=s.run_timeout)
            except subprocess.TimeoutExpired:
                s.stats.hung += 1
                p.kill()
                code = p.wait()
                s.stats.finding(f"round {self.number}: {app} did not end within {s.run_timeout} s "
                                f"(killed; log {out_path})")
            with self.procs_lock:
                self.procs.pop(r, None)
                killed_by_us = app in s.killed_apps
            s.stats.runs += 1
            s.stats.add("exits", code)
            text = open(out_path, errors="replace").read()
            if code < 0 and not (code == -signal.SIGKILL and killed_by_us):
                s.stats.finding(f"round {self.number}: {app} died of signal {-code} (log {out_path})")
            elif code >= 0 and code not in EXPECTED_EXITS:
                s.stats.finding(f"round {self.number}: {app} exit {code}: {last_error(text)} (log {out_path})")
            if code == 1:
                s.stats.add("causes", cause(last_error(text)))
            asked = REPAIR_HINT.search(text) if code == 1 else None
            if asked:
                # A statement a killed run left unfinished, reported for a person to check.
                with self.procs_lock:
                    self.to_repair.add(asked.group(1))
                self.repair_wanted.set()
            elif code == 1 and cause(last_error(text)) == "other":
                s.stats.finding(f"round {self.number}: {app}: {last_error(text)} (log {out_path})")
            elif code == 1 and ("an invalid index was left behind" in text or
                                ("already exists" in text and "_concurrently.sql" in last_error(text))):
                self.repair_wanted.set()
            elif code == 1 and "already exists" in text:
                s.stats.finding(f"round {self.number}: {app}: {last_error(text)} (log {out_path})")
            if code == 0 and "up to date: nothing to apply" in text:
                self.done.add(r)
            with self.procs_lock:
                self.active -= 1
            if code != 0 and code != 4:
                time.sleep(random.uniform(0.05, 0.3))

    def pick_process(self, rng):
        with self.procs_lock:
            live = [v for v in self.procs.values() if v[0].poll() is None]
        return rng.choice(live) if live else None

    def backends(self):
        return psql(f"{self.soak.direct_url}/{self.db}",
                    "SELECT pid, state, application_name FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND application_name LIKE 'soak-%'", check=False)

    def chaos_once(self, rng):
        s = self.soak
        kind = rng.choices(["kill9", "terminate", "cut", "blackhole"], weights=[4, 3, 2, 1])[0]
        if kind == "kill9":
            target = self.pick_process(rng)
            if not target:
                return
            # Most often the runner whose backend is running something: the lock holder.
            active = {b[2] for b in self.backends() if b[1] == "active"}
            with self.procs_lock:
                busy = [v for v in self.procs.values() if v[1] in active and v[0].poll() is None]
            if busy and rng.random() < 0.7:
                target = rng.choice(busy)
            s.killed_apps.add(target[1])
            try:
                target[0].send_signal(signal.SIGKILL)
            except ProcessLookupError:
                return
        elif kind == "terminate":
            rows = self.backends()
            if not rows:
                return
            active = [b for b in rows if b[1] == "active"]
            pick = rng.choice(active if active and rng.random() < 0.7 else rows)
            psql(f"{s.direct_url}/{self.db}", f"SELECT pg_terminate_backend({int(pick[0])})", check=False)
        elif kind == "cut":
            proxy_command(s.control, "cut")
        else:
            proxy_command(s.control, f"blackhole {rng.uniform(0.5, 4):.1f}")
        s.stats.add("kills", kind)

    def chaos(self, rng):
        while not self.stop.is_set():
            if self.stop.wait(rng.expovariate(1.0 / self.soak.kill_every)):
                break
            if self.gate.is_set():
                try:
                    self.chaos_once(rng)
                except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
                    log(f"chaos: {e}")

    def quiesce(self):
        """Stop starting runs and wait for the running ones to end."""
        self.gate.clear()
        while True:
            with self.procs_lock:
                if self.active == 0:
                    return
            time.sleep(0.1)

    def repair(self):
        """With no run going, what a person does about a statement a killed run left.

        A CREATE INDEX CONCURRENTLY that a kill interrupted leaves its index (invalid when the
        server stopped the build, valid when it finished it): the index is dropped, as the
        error's hint says. When the run reported the statement as interrupted (its claim left
        unfinished), `db-migrate repair --target-version V` then lets the next apply run it.
        """
        self.quiesce()
        s = self.soak
        url = f"{s.direct_url}/{self.db}"
        with self.procs_lock:
            asked, self.to_repair = self.to_repair, set()
        failed = psql(url, "SELECT m.version, m.failed_statement, m.error, i.indisvalid FROM db_migrate.migrations m "
                           "JOIN pg_class c ON c.relname = 'soak_ix_' || m.version "
                           "JOIN pg_index i ON i.indexrelid = c.oid WHERE m.status = 'failed'", check=False)
        for v, stmt, err, valid in failed:
            name = f"soak_ix_{v}"
            if valid == "t" and v not in asked:
                # Built and valid, yet the history says the statement is still to run, and no
                # message says it may have taken effect: every rerun fails with "already exists".
                s.stats.finding(
                    f"round {self.number}: {v}: CREATE INDEX CONCURRENTLY completed on the server after "
                    f"the run lost its connection; the history still says statement {stmt} is to run "
                    f"({err}), so every rerun fails with 'relation \"{name}\" already exists'")
            note = (f"round {self.number}: dropped the {'valid' if valid == 't' else 'invalid'} index "
                    f"{name} that a killed run's CREATE INDEX CONCURRENTLY left (history: failed at "
                    f"statement {stmt}: {err})")
            psql(url, f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
            s.stats.repairs.append(note)
            log("repair: " + note)
        for v in sorted(asked):
            p = subprocess.run([s.bin, "repair", "--target-version", v, "--migrations-dir", s.mdir,
                                "--database-url", with_params(url, sslmode="disable", application_name="soak-repair")],
                               capture_output=True, text=True, timeout=300, env=s.env)
            if p.returncode != 0:
                s.stats.finding(f"round {self.number}: repair --target-version {v} exit {p.returncode}: "
                                f"{last_error(p.stdout + p.stderr)}")
            s.stats.repairs.append(f"round {self.number}: db-migrate repair --target-version {v}: exit {p.returncode}")
            log("repair: " + s.stats.repairs[-1])
        self.repair_wanted.clear()
        self.gate.set()

    def run(self, deadline):
        s = self.soak
        psql(f"{s.direct_url}/postgres", f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)")
        psql(f"{s.direct_url}/postgres", f"CREATE DATABASE {self.db}")
        psql(f"{s.direct_url}/{self.db}",
             "CREATE TABLE public.soak_ledger (version text NOT NULL, "
             "at timestamptz NOT NULL DEFAULT clock_timestamp(), "
             "app text NOT NULL DEFAULT current_setting('application_name'), "
             "txid bigint NOT NULL DEFAULT txid_current()); "
             "CREATE TABLE public.soak_counter (n int NOT NULL); INSERT INTO public.soak_counter VALUES (0)")
        threads = [threading.Thread(target=self.runner, args=(r,), daemon=True) for r in range(s.runners)]
        chaos = threading.Thread(target=self.chaos, args=(random.Random(s.rng.random()),), daemon=True)
        for t in threads + [chaos]:
            t.start()
        while len(self.done) < s.runners and time.monotonic() < deadline:
            if self.repair_wanted.is_set():
                self.repair()
            time.sleep(0.2)
        self.stop.set()
        self.gate.set()
        for t in threads + [chaos]:
            t.join()
        return len(self.done) == s.runners


def proxy_command(port, line):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        c.sendall((line + "\n").encode())
        return c.makefile("r").readline().strip()


LOST = re.compile(r"server closed the connection|no connection to the server|Connection reset|"
                  r"terminating connection due to administrator command|terminating background worker|"
                  r"could not receive data|SSL SYSCALL|EOF detected")


REPAIR_HINT = re.compile(r"'db-migrate repair --target-version ([^' ]+)'")


def cause(error):
    """What made a run exit 1, from its last error line."""
    if "already exists" in error:
        return "already exists"
    if "was interrupted" in error:
        return "statement interrupted (reported for a person)"
    if "which has not ended it" in error:
        return "statement claimed by another run"
    if LOST.search(error):
        return "connection lost"
    return "other"


def last_error(text):
    errs = [l for l in text.splitlines() if l.startswith("error: ")]
    return errs[-1] if errs else (text.strip().splitlines() or ["(no output)"])[-1]


# --- after a round: the final apply and the invariants ----------------------------------------


class Checker:
    def __init__(self, soak, rnd):
        self.soak = soak
        self.rnd = rnd
        self.url = f"{soak.direct_url}/{rnd.db}"
        self.failures = []
        self.checked = 0

    def check(self, name, ok, detail=""):
        self.checked += 1
        if not ok:
            self.failures.append(f"{name}: {detail}")

    def before_final(self):
        """What the kills left: failed rows and invalid indexes, reported, then repaired."""
        left = psql(self.url, "SELECT version, failed_statement, error FROM db_migrate.migrations "
                              "WHERE status = 'failed' ORDER BY version", check=False)
        for v, stmt, err in left:
            log(f"  left by the kills: {v} failed at statement {stmt}: {err}")
        self.soak.left_failed += len(left)
        self.rnd.repair()

    def final_apply(self):
        s = self.soak
        for cmd in (["apply"], ["verify"]):
            p = subprocess.run([s.bin] + cmd + ["--migrations-dir", s.mdir, "--database-url",
                                                with_params(self.url, sslmode="disable",
                                                            application_name="soak-final")],
                               capture_output=True, text=True, timeout=600, env=s.env)
            self.check(f"final {cmd[0]} exits 0", p.returncode == 0,
                       f"exit {p.returncode}: {last_error(p.stdout + p.stderr)}")

    def invariants(self):
        s = self.soak
        versions = sorted(s.expect)
        hist = {r[0]: r[1:] for r in psql(self.url, "SELECT version, status, failed_statement, error "
                                                    "FROM db_migrate.migrations", check=False)}
        missing = [v for v in versions if v not in hist]
        self.check("every migration is in the history", not missing, f"missing {missing[:20]}")
        extra = sorted(set(hist) - set(versions))
        self.check("the history holds no unknown version", not extra, f"unknown {extra[:20]}")
        failed = {v: h for v, h in hist.items() if h[0] != "applied"}
        self.check("no failed history row", not failed, str(dict(list(failed.items())[:10])))
        ledger = collections.Counter()
        apps = collections.defaultdict(list)
        for v, app in psql(self.url, "SELECT version, app FROM public.soak_ledger ORDER BY at"):
            ledger[v] += 1
            apps[v].append(app)
        twice = {v: apps[v] for v in versions if ledger[v] > 1}
        never = [v for v in versions if ledger[v] == 0]
        self.check("every migration ran exactly once (ledger)", not twice and not never,
                   f"ran more than once: {twice}; never ran: {never[:20]}")
        self.schema()
        open_runs = psql(self.url, "SELECT id, command, started_at FROM db_migrate.runs WHERE finished_at IS NULL")
        self.check("no run left open", not open_runs, str(open_runs[:10]))
        outcomes = {r[0] for r in psql(self.url, "SELECT DISTINCT outcome FROM db_migrate.runs")}
        self.check("run outcomes are known", outcomes <= {"applied", "up-to-date", "failed", "abandoned"},
                   str(outcomes))
        self.nothing_left()

    def schema(self):
        clauses = []
        for v, objs in self.soak.expect.items():
            for kind, name, extra in objs:
                if kind == "table":
                    clauses.append(f"SELECT '{v} table {name}' WHERE to_regclass('{name}') IS NULL")
                    if extra:
                        clauses.append(f"SELECT '{v} table {name} holds {extra} rows' WHERE CASE WHEN "
                                       f"to_regclass('{name}') IS NULL THEN false ELSE (xpath('/row/c/text()', "
                                       f"query_to_xml('SELECT count(*) AS c FROM {name}', false, true, '')))[1]"
                                       f"::text::int <> {extra} END")
                elif kind == "index":
                    clauses.append(f"SELECT '{v} valid index {name}' WHERE NOT coalesce((SELECT indisvalid "
                                   f"FROM pg_index WHERE indexrelid = to_regclass('{name}')), false)")
                elif kind == "column":
                    clauses.append(f"SELECT '{v} column {name}.{extra}' WHERE NOT EXISTS (SELECT 1 FROM "
                                   f"information_schema.columns WHERE table_name = '{name}' AND column_name = '{extra}')")
                elif kind == "function":
                    clauses.append(f"SELECT '{v} function {name}' WHERE to_regproc('{name}') IS NULL")
                elif kind == "view":
                    clauses.append(f"SELECT '{v} view {name}' WHERE to_regclass('{name}') IS NULL")
        absent = [r[0] for r in psql(self.url, " UNION ALL ".join(clauses))]
        self.check("the schema holds what the history says was applied", not absent, "; ".join(absent[:20]))
        alters = sum(1 for objs in self.soak.expect.values() for k, _, _ in objs if k == "column")
        n = psql(self.url, "SELECT n FROM public.soak_counter")[0][0]
        self.check("the counter was bumped once per column migration", int(n) == alters, f"{n} != {alters}")
        invalid = psql(self.url, "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                                 "WHERE NOT i.indisvalid")
        self.check("no invalid index", not invalid, str(invalid))

    def nothing_left(self):
        # The runners' backends go once the server sees their clients gone: a few seconds at most.
        sessions = []
        for _ in range(50):
            sessions = psql(self.url, "SELECT pid, state, application_name, left(query, 60) FROM pg_stat_activity "
                                      "WHERE datname = current_database() AND pid <> pg_backend_pid()")
            if not sessions:
                break
            time.sleep(0.2)
        self.check("no session left in the database", not sessions, str(sessions[:10]))
        idle_tx = psql(self.url, "SELECT count(*) FROM pg_stat_activity WHERE state LIKE 'idle in transaction%'")
        self.check("no session idle in a transaction", idle_tx[0][0] == "0", idle_tx[0][0])
        locks = psql(self.url, "SELECT l.pid, l.classid, l.objid FROM pg_locks l WHERE l.locktype = 'advisory'")
        self.check("no advisory lock held", not locks, str(locks))
        for (table,) in psql(self.url, "SELECT format('%I.%I', table_schema, table_name) FROM information_schema.tables "
                                       "WHERE table_schema = 'db_migrate' AND table_name LIKE '%lease%'"):
            held = psql(self.url, f"SELECT * FROM {table}")
            self.check(f"no lease held in {table}", lease_released(self.url, table), str(held[:5]))
        # Claimed statements of non-transactional migrations: none left in doubt.
        if psql(self.url, "SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('db_migrate.statements') "
                          "AND attname = 'finished_at'"):
            claims = psql(self.url, "SELECT version, statement, run_id FROM db_migrate.statements "
                                    "WHERE finished_at IS NULL")
            self.check("no claimed statement left unfinished", not claims, str(claims[:10]))


def lease_released(url, table):
    """A lease row counts as released when the table says so: no holder, or an expiry in the past."""
    cols = {r[0] for r in psql(url, f"SELECT attname FROM pg_attribute WHERE attrelid = '{table}'::regclass "
                                    "AND attnum > 0 AND NOT attisdropped")}
    conds = []
    if "holder" in cols:
        conds.append("holder IS NOT NULL")
    for c in ("expires_at", "expires", "until"):
        if c in cols:
            conds.append(f"{c} > now()")
    if not conds:
        return False
    return psql(url, f"SELECT count(*) FROM {table} WHERE {' AND '.join(conds)}")[0][0] == "0"


# --- the soak -------------------------------------------------------------------------------


class Soak:
    def __init__(self, argv):
        self.bin, self.direct_url, self.proxy_url, control, self.work = argv
        self.control = int(control)
        self.seconds = env_int("SOAK_SECONDS", 180)
        self.runners = env_int("SOAK_RUNNERS", 8)
        self.count = env_int("SOAK_MIGRATIONS", 200)
        self.seed = env_int("SOAK_SEED", int(time.time()))
        self.kill_every = float(os.environ.get("SOAK_KILL_EVERY") or 1.0)
        self.run_timeout = env_int("SOAK_RUN_TIMEOUT", 240)
        self.pooler_url = os.environ.get("SOAK_POOLER_URL") or ""
        self.pooled = env_int("SOAK_POOLED", 0) if self.pooler_url else 0
        self.rng = random.Random(self.seed)
        # A sanitizer build's report exits 86, which no run of db-migrate does: a finding.
        asan = os.environ.get("ASAN_OPTIONS", "")
        self.env = dict(os.environ, NO_COLOR="1", ASAN_OPTIONS=(asan + ":" if asan else "") + "exitcode=86")
        # SOAK_LEASE_TTL: a shorter lease, so a partitioned holder can lose it to another run.
        if os.environ.get("SOAK_LEASE_TTL"):
            self.env["DB_MIGRATE_LEASE_TTL"] = os.environ["SOAK_LEASE_TTL"]
        self.stats = Stats()
        self.killed_apps = set()
        self.left_failed = 0
        self.mdir = os.path.join(self.work, "migrations")
        os.makedirs(os.path.join(self.work, "out"), exist_ok=True)
        self.expect = generate(self.mdir, self.count, random.Random(self.seed))

    def main(self):
        started = time.monotonic()
        end = started + self.seconds
        log(f"soak: {self.runners} runners ({self.pooled} through PgBouncer), {self.count} migrations, "
            f"{self.seconds} s, a kill every {self.kill_every} s on average, seed {self.seed}"
            + (f", lease TTL {self.env['DB_MIGRATE_LEASE_TTL']} s" if "DB_MIGRATE_LEASE_TTL" in self.env else ""))
        rounds, complete, checked, failures = 0, 0, 0, []
        while time.monotonic() < end or rounds == 0:
            rounds += 1
            rnd = Round(self, rounds)
            # A round started late still gets the time to finish: a few minutes past the end at most.
            finished = rnd.run(max(end, time.monotonic() + 60) + 120)
            complete += finished
            c = Checker(self, rnd)
            c.before_final()
            c.final_apply()
            c.invariants()
            checked += c.checked
            log(f"round {rounds}: {'every runner found it up to date' if finished else 'stopped at the deadline'}; "
                f"{c.checked - len(c.failures)}/{c.checked} invariants hold")
            for f in c.failures:
                failures.append(f"round {rounds}: {f}")
                log(f"INVARIANT FAILED: round {rounds}: {f}")
            if not c.failures:
                psql(f"{self.direct_url}/postgres", f"DROP DATABASE IF EXISTS {rnd.db} WITH (FORCE)", check=False)
        st = self.stats
        summary = {
            "seconds": round(time.monotonic() - started, 1), "rounds": rounds, "rounds_completed": complete,
            "runners": self.runners, "pooled_runners": self.pooled, "migrations": self.count, "seed": self.seed,
            "runs": st.runs, "exits": {str(k): v for k, v in sorted(st.exits.items())}, "exit_1_causes": dict(st.causes),
            "kills": dict(st.kills), "hung": st.hung, "repairs": len(st.repairs),
            "failed_rows_left_by_kills": self.left_failed, "invariants_checked": checked,
            "invariants_failed": len(failures), "findings": [f"{t} (x{n})" for t, n in st.findings.values()],
            "proxy": proxy_command(self.control, "stats"),
        }
        with open(os.path.join(self.work, "summary.json"), "w") as f:
            json.dump(summary, f, indent=2)
        print()
        print("soak summary")
        print(f"  duration        {summary['seconds']} s, {rounds} rounds ({complete} ran to up-to-date), seed {self.seed}")
        print(f"  runs attempted  {st.runs} by {self.runners} runners ({self.pooled} through PgBouncer)")
        print("  exit codes      " + ", ".join(f"{k}: {v}" for k, v in sorted(st.exits.items())))
        print("  exit 1 causes   " + ", ".join(f"{k}: {v}" for k, v in sorted(st.causes.items())))
        print("  kills           " + ", ".join(f"{k}: {v}" for k, v in sorted(st.kills.items())))
        valid = sum(1 for r in st.repairs if "the valid index" in r)
        invalid = sum(1 for r in st.repairs if "the invalid index" in r)
        cleared = sum(1 for r in st.repairs if "db-migrate repair" in r)
        print(f"  repairs         {invalid} invalid and {valid} valid indexes of interrupted builds dropped, "
              f"{cleared} 'db-migrate repair' runs; {self.left_failed} failed rows left at the rounds' ends")
        print(f"  proxy           {summary['proxy']}")
        print(f"  invariants      {checked} checked, {len(failures)} failed")
        for text, n in st.findings.values():
            print(f"  finding         {text}" + (f" ({n} times)" if n > 1 else ""))
        for f in failures:
            print(f"  FAILED          {f}")
        ok = not failures and not st.findings
        print(f"soak: {'all invariants hold' if ok else 'FAILED'}")
        return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    sys.exit(Soak(sys.argv[1:]).main())
