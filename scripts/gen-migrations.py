#!/usr/bin/env python3
"""gen-migrations.py DIR N [REFERENCE_SQL] - a generated project history of N migrations.

Each migration is a dbmate-style file (-- migrate:up / -- migrate:down) that creates a
table with a primary key, an index and a comment: 20240101000001_item_1.sql and on. With
REFERENCE_SQL, the same statements go there as one psql script, a transaction per
migration (bench/apply-bench.sh measures psql on it). Used by the benchmarks and by
scripts/docs.sh, which shows the summary of a project of this size.
"""
import sys


def main():
    d, n = sys.argv[1], int(sys.argv[2])
    ref = open(sys.argv[3], "w") if len(sys.argv) > 3 else None
    for i in range(1, n + 1):
        body = (f"CREATE TABLE item_{i} (\n    id bigint PRIMARY KEY,\n    owner_id bigint NOT NULL,\n"
                f"    name text NOT NULL,\n    created_at timestamptz NOT NULL DEFAULT now()\n);\n"
                f"CREATE INDEX item_{i}_owner_idx ON item_{i} (owner_id);\n"
                f"COMMENT ON TABLE item_{i} IS 'generated table {i}';\n")
        with open(f"{d}/{20240101000000 + i}_item_{i}.sql", "w") as f:
            f.write("-- migrate:up\n" + body + "\n-- migrate:down\nDROP TABLE item_%d;\n" % i)
        if ref:
            ref.write("BEGIN;\n" + body + "COMMIT;\n")
    if ref:
        ref.close()


if __name__ == "__main__":
    main()
