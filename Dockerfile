# db-migrate as a container: the GitHub Action's image, an ECS task, or a base to copy the
# binary from. The build stage compiles with the Makefile's release flags; the final stage
# holds the binary and the shared libraries it links, nothing else.

FROM docker.io/library/debian:bookworm-slim AS build
# Its own layer, keyed on the package list only, so source edits reuse it.
COPY scripts/deps.sh /src/scripts/deps.sh
RUN /src/scripts/deps.sh build && rm -rf /var/lib/apt/lists/*
# libpg_query 18, the parser make links (PostgreSQL 18's grammar): its own layer too.
COPY scripts/libpg-query.sh scripts/libpg-query-compat.c /src/scripts/
RUN /src/scripts/libpg-query.sh
COPY Makefile VERSION /src/
COPY src /src/src
RUN make -C /src -j"$(nproc)" db-migrate

FROM docker.io/library/debian:bookworm-slim
# The shared libraries the binary needs: OpenSSL, linked; libpq, loaded by the thread that
# connects, and libcurl, loaded on first use (IAM auth, PR comments), so ldd lists neither
# and both are installed by name (libgit2, libssh2, Jansson, expat, libyaml and libpg_query are
# linked statically; see the Makefile).
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      ca-certificates libpq5 libcurl4 libssl3 \
 && rm -rf /var/lib/apt/lists/* /var/cache/debconf/*-old /var/lib/dpkg/*-old /var/log/*
COPY --from=build /src/db-migrate /usr/local/bin/db-migrate
# Fail the build, not the first job, when a library is missing.
RUN if ldd /usr/local/bin/db-migrate | grep 'not found'; then exit 1; fi \
 && ldconfig -p | grep -q 'libcurl.so.4 ' && ldconfig -p | grep -q 'libpq.so.5 '
# Exec form: a shell would drop variables whose names hold hyphens (INPUT_MIGRATIONS-DIR).
ENTRYPOINT ["/usr/local/bin/db-migrate"]
