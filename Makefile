# db-migrate build.
#
#   make            the release binary ./db-migrate (-O2), its shell completions and man page
#   make install    install them under $(DESTDIR)$(PREFIX) (default /usr/local)
#   make check      install missing packages, build with ASan+UBSan, run every test
#                   (PG=13|15|17|18: the integration suites against that PostgreSQL; 15 default)
#   make check-pg   the integration suites against PostgreSQL 13, 17 and 18 in turn
#   make demo       build, start a throwaway PostgreSQL, apply migrations-example/, show the summary
#   make docs       regenerate docs/images/: the rendered summary and comment of a 1,000-migration
#                   project (cmark-gfm, headless Chromium)
#   make bench      benchmarks against a reference measured in the same run
#   make soak       8 runners apply 200 migrations under random kills for SOAK_SECONDS (180), then
#                   check that each ran exactly once and nothing is left locked (bench/soak.sh)
#   make format     clang-format the sources
#   make dist       the release form of the action (dist/)
#   make release    publish it: the image as :vX.Y.Z and :vX, then the git tags vX.Y.Z and vX
#                   (pushed to RELEASE_REMOTE, default origin)
#
# Sources are found in src/ and its folders (one per concern, see README "Development"): a new
# src/<folder>/foo.c is built and linked without editing this file, and a new
# tests/unit/<folder>/test_foo.c becomes a cmocka test binary linked with every module but main.

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
CC ?= cc
PKGS := libpq libgit2 libcurl jansson libssh2 libcrypto expat yaml-0.1
# libpg_query 18 (PostgreSQL 18's grammar), prepared once per machine by scripts/libpg-query.sh
# in a cache outside the clone; the system's libpg_query, if any, is never used. Goals that
# compile nothing, or only in a sub-make once packages are installed, do not ask for it.
NO_BUILD_GOALS := clean format format-check lint deps deps-test action-check dist dist-check \
	check demo bench soak release docs
ifneq ($(filter-out $(NO_BUILD_GOALS),$(or $(MAKECMDGOALS),all)),)
PGQ_DIR := $(shell scripts/libpg-query.sh)
$(if $(PGQ_DIR),,$(error libpg_query 18 is missing: scripts/libpg-query.sh failed (see above)))
endif
PGQ_STAMP := $(PGQ_DIR)/.installed
PKG_CFLAGS = -I$(PGQ_DIR)/include $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libcurl is not linked: src/net/http.c loads it on first use (dlopen), so runs that
# make no HTTP request never map it and its TLS stack.
# libpq is not linked either: src/postgres/pq.c loads it on the thread that connects, while the
# files are read, since its LDAP, Kerberos and GnuTLS dependencies cost every start about
# 2.5 ms of dynamic loading. libgit2 (with its mbedTLS, http-parser, PCRE2 and zlib),
# libssh2, Jansson, expat, libyaml and libpg_query are linked statically: each shared library costs
# the dynamic loader time on every start, and a no-op deploy step is mostly start-up. libpq
# and OpenSSL stay shared, for the system's security updates; libgit2's Negotiate auth needs
# the GSSAPI library.
STATIC_LIBS := git2 mbedtls mbedx509 mbedcrypto http_parser pcre2-8 ssh2 jansson expat yaml z
PKG_LIBS = -Wl,-Bstatic $(addprefix -l,$(STATIC_LIBS)) $(PGQ_DIR)/lib/libpg_query.a -Wl,-Bdynamic \
	$(shell pkg-config --libs libcrypto 2>/dev/null) -l:libgssapi_krb5.so.2 -lssl -lcrypto \
	-lrt -lpthread -ldl -lm

# V=1 shows the full compiler command lines.
ifeq ($(V),1)
Q :=
else
Q := @
endif

WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-unused-parameter -Wvla
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -DDBM_VERSION='"$(VERSION)"' -Isrc $(WARN)
RELEASE_CFLAGS := -O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong
ASAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all

SRCS := $(sort $(shell find src -name '*.c'))
LIB_SRCS := $(filter-out src/main.c,$(SRCS))
HDRS := $(sort $(shell find src -name '*.h'))
UNIT_SRCS := $(sort $(shell find tests/unit -name 'test_*.c'))
UNIT_HDRS := $(sort $(shell find tests/unit -name '*.h'))
FORMAT_FILES = $(HDRS) $(SRCS) $(UNIT_SRCS) $(UNIT_HDRS)

REL_OBJS := $(patsubst src/%.c,build/release/%.o,$(SRCS))
ASAN_OBJS := $(patsubst src/%.c,build/asan/%.o,$(SRCS))
ASAN_LIB_OBJS := $(patsubst src/%.c,build/asan/%.o,$(LIB_SRCS))
UNIT_BINS := $(patsubst tests/unit/%.c,build/asan/tests/%,$(UNIT_SRCS))

.PHONY: all deps deps-test check check-pg unit integration format format-check lint demo bench soak \
	docs dist clean asan action-check dist-check completions man install release

# The PostgreSQL major the integration suites run against: 15 is the host's; 13, 17 and 18 run
# from Debian roots that scripts/pg-root.sh builds on first use (about a minute each) and keeps.
PG ?= 15
PG_VERSIONS ?= 13 17 18

all: db-migrate completions man

# The bash and zsh completions and the man page, written by the binary from its command and
# option tables (src/command/docs.c), so they name every command and option it has.
COMPLETIONS := build/completions/db-migrate build/completions/_db-migrate
MANPAGE := build/man/db-migrate.1
# The man page's date: the last commit's, so a rebuild of one commit writes the same page.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null)

completions: $(COMPLETIONS)
man: $(MANPAGE)

build/completions/db-migrate: db-migrate
	@mkdir -p $(@D)
	./db-migrate --generate completion-bash >$@
build/completions/_db-migrate: db-migrate
	@mkdir -p $(@D)
	./db-migrate --generate completion-zsh >$@
$(MANPAGE): db-migrate
	@mkdir -p $(@D)
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) ./db-migrate --generate man >$@

# Where packagers expect each file; ZSH_COMPLETION_DIR is vendor-completions on Debian.
PREFIX ?= /usr/local
ZSH_COMPLETION_DIR ?= $(PREFIX)/share/zsh/site-functions
install: db-migrate $(COMPLETIONS) $(MANPAGE)
	install -Dm755 db-migrate $(DESTDIR)$(PREFIX)/bin/db-migrate
	install -Dm644 build/completions/db-migrate \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/db-migrate
	install -Dm644 build/completions/_db-migrate $(DESTDIR)$(ZSH_COMPLETION_DIR)/_db-migrate
	install -Dm644 $(MANPAGE) $(DESTDIR)$(PREFIX)/share/man/man1/db-migrate.1

deps:
	@scripts/deps.sh build

deps-test:
	@scripts/deps.sh test container

db-migrate: $(REL_OBJS)
	@echo "  LINK    $@"
	$(Q)$(CC) $(RELEASE_CFLAGS) -o $@ $(REL_OBJS) $(PKG_LIBS)

build/release/%.o: src/%.c $(HDRS) $(PGQ_STAMP)
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(BASE_CFLAGS) $(RELEASE_CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

build/asan/%.o: src/%.c $(HDRS) $(PGQ_STAMP)
	@mkdir -p $(@D)
	@echo "  CC      $< (asan)"
	$(Q)$(CC) $(BASE_CFLAGS) $(ASAN_CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

build/asan/db-migrate: $(ASAN_OBJS)
	@echo "  LINK    $@"
	$(Q)$(CC) $(ASAN_CFLAGS) -o $@ $(ASAN_OBJS) $(PKG_LIBS)

asan: build/asan/db-migrate

build/asan/tests/%: tests/unit/%.c $(ASAN_LIB_OBJS) $(UNIT_HDRS) $(PGQ_STAMP)
	@mkdir -p $(@D)
	@echo "  TEST    $@"
	$(Q)$(CC) $(BASE_CFLAGS) -Itests/unit $(ASAN_CFLAGS) $(PKG_CFLAGS) -o $@ $< $(ASAN_LIB_OBJS) -lpq $(PKG_LIBS) -lcmocka

build/asan:
	@mkdir -p $@

# Each header must compile on its own.
build/asan/headers.ok: $(HDRS) $(PGQ_STAMP) | build/asan
	@for h in $(HDRS); do \
	  printf '#include "%s"\n' "$${h#src/}" | $(CC) $(BASE_CFLAGS) $(PKG_CFLAGS) -x c -fsyntax-only - || exit 1; \
	done; touch $@

unit: $(UNIT_BINS)
	@tests/run-unit.sh $(UNIT_BINS)

integration: build/asan/db-migrate
	@scripts/pg-root.sh prepare $(PG)
	@PG=$(PG) DBM_BIN=$(CURDIR)/build/asan/db-migrate tests/run-integration.sh

format:
	clang-format -i $(FORMAT_FILES)

format-check:
	@clang-format --dry-run --Werror $(FORMAT_FILES)

# curl's list of unsafe functions: none of them in the sources; lower folders never include
# higher ones; no file over 700 lines, no function over 80.
lint:
	@if grep -nE '\b(strcpy|sprintf|strcat|atoi|strtok|gets)\s*\(' $(SRCS) $(HDRS); then \
	  echo "lint: banned function (use snprintf, dbm_buf, strtol, strtok_r)"; exit 1; fi
	@scripts/check-layers.sh
	@scripts/check-size.sh

# The npm tools of package-lock.json (the action validator, dbmate), installed once.
node_modules/.installed: package.json package-lock.json
	@npm install --no-audit --no-fund --loglevel=error >/dev/null
	@touch $@

check: deps-test node_modules/.installed
	@$(MAKE) --no-print-directory format-check lint build/asan/headers.ok action-check dist-check
	@$(MAKE) --no-print-directory $(UNIT_BINS) build/asan/db-migrate
	@scripts/pg-root.sh prepare $(PG)
	@PG=$(PG) tests/run.sh $(UNIT_BINS)

# The integration suites only (no unit tests, format or lint), once per major of PG_VERSIONS;
# one total line per major.
check-pg: deps-test node_modules/.installed
	@$(MAKE) --no-print-directory -s build/asan/db-migrate
	@scripts/check-pg.sh $(PG_VERSIONS)

demo: deps
	@$(MAKE) --no-print-directory db-migrate
	@scripts/deps.sh test
	@scripts/demo.sh

docs: deps
	@scripts/deps.sh docs
	@$(MAKE) --no-print-directory db-migrate
	@scripts/docs.sh

bench: deps-test node_modules/.installed
	@$(MAKE) --no-print-directory db-migrate
	@bench/run.sh

soak: deps-test
	@$(MAKE) --no-print-directory db-migrate
	@bench/soak.sh

# action.yml, dist/ and the example workflows are valid; docs/action.md's tables are current.
action-check:
	@scripts/validate-action.sh

dist:
	@scripts/gen-dist.sh

dist-check:
	@scripts/gen-dist.sh --check

RELEASE_REMOTE ?= origin
release: dist-check
	@scripts/publish-image.sh
	@scripts/gen-dist.sh --tag $(RELEASE_REMOTE)

clean:
	rm -rf build db-migrate
