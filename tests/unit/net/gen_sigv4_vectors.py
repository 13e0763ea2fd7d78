#!/usr/bin/python3
"""Write RDS auth token test vectors computed by botocore, one JSON object a line.

    gen_sigv4_vectors.py OUTFILE [COUNT [SEED]]

Each line holds the inputs (host, port, user, region, access_key_id,
secret_access_key, session_token or null, time as seconds since the epoch) and
the token botocore's RDS client returns from generate_db_auth_token for them.
The signer's clock is frozen at `time` by replacing the clock botocore.auth
reads; nothing else of botocore is touched. Run by tests/unit/test_sigv4.c
during `make check`, with Debian's python3-botocore.
"""

import datetime
import json
import os
import random
import sys
import types

import botocore.auth
import botocore.session

_frozen = [datetime.datetime(1970, 1, 1)]


def freeze_clock():
    """Make botocore.auth read its 'now' from _frozen[0] (a naive UTC datetime)."""
    if hasattr(botocore.auth, "get_current_datetime"):
        botocore.auth.get_current_datetime = lambda remove_tzinfo=True: _frozen[0]
        return

    class FrozenDatetime(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return _frozen[0]

        @classmethod
        def now(cls, tz=None):
            return _frozen[0] if tz is None else _frozen[0].replace(tzinfo=tz)

    shim = types.SimpleNamespace(
        **{k: getattr(datetime, k) for k in dir(datetime) if not k.startswith("__")}
    )
    shim.datetime = FrozenDatetime
    botocore.auth.datetime = shim


HOST_WORDS = ["prod", "db", "mydb", "aurora-cluster", "Billing", "x", "a1", "replica-2"]
REGIONS = ["us-east-1", "us-west-2", "eu-west-3", "eu-central-1", "ap-southeast-2",
           "sa-east-1", "ca-central-1", "cn-north-1", "us-gov-west-1", "me-south-1"]
USER_ALPHABET = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                 "_-.~@+/ %=&?#:;,'\"!*()[]$\\^`{}|<>"
                 "éüßøñ日本語Ωж🐘€")
TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="


def random_host(rng):
    kind = rng.randrange(4)
    if kind == 0:
        return "%d.%d.%d.%d" % tuple(rng.randrange(256) for _ in range(4))
    label = rng.choice(HOST_WORDS)
    if kind == 1:
        return label.upper() + ".EXAMPLE.com"
    cluster = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(12))
    return "%s.%s.%s.rds.amazonaws.com" % (label, cluster, rng.choice(REGIONS))


def random_user(rng):
    return "".join(rng.choice(USER_ALPHABET) for _ in range(rng.randrange(1, 24)))


def random_keys(rng):
    akid = "ASIA" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
    secret = "".join(rng.choice(TOKEN_ALPHABET) for _ in range(40))
    token = None
    if rng.random() < 0.6:
        token = "".join(rng.choice(TOKEN_ALPHABET) for _ in range(rng.randrange(16, 400)))
    return akid, secret, token


FIXED = [
    # The vector of botocore's own documentation and tests.
    ("prod-instance.us-east-1.rds.amazonaws.com", 3306, "someusername", "us-east-1",
     "akid", "skid", None, 1478540373),
    ("prod-instance.us-east-1.rds.amazonaws.com", 5432, "someusername", "us-east-1",
     "akid", "skid", "sessiontoken/with+special=", 1478540373),
    # The default https port is left out of the signed host, not the token.
    ("db.example.com", 443, "postgres", "eu-west-1", "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG",
     None, 1700000000),
    ("MixedCase.Cluster-ABC.eu-west-1.rds.amazonaws.com", 5432, "app user", "eu-west-1",
     "AKIDEXAMPLE", "secret", "tok", 1700000000),
    ("10.1.2.3", 1, "a@b+c/d e~f", "us-east-2", "AKID", "s", None, 0),
    ("h", 65535, "日本語 🐘 é", "ap-northeast-1", "AKID", "s", "t", 4102444799),
    ("leap.example.com", 6432, "%41%", "us-east-1", "AKID", "s", None, 951782400),
]


def main():
    out_path = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 20161107
    rng = random.Random(seed)
    # No profile, config file or environment setting may take part.
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        del os.environ[name]
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    freeze_clock()
    session = botocore.session.Session()

    cases = list(FIXED)
    for _ in range(count):
        akid, secret, token = random_keys(rng)
        port = rng.choice([5432, 3306, 443, 6432, rng.randrange(1, 65536)])
        when = rng.randrange(0, 4102444800)
        cases.append((random_host(rng), port, random_user(rng), rng.choice(REGIONS),
                      akid, secret, token, when))

    with open(out_path, "w", encoding="utf-8") as out:
        for host, port, user, region, akid, secret, token, when in cases:
            client = session.create_client(
                "rds", region_name=region, aws_access_key_id=akid,
                aws_secret_access_key=secret, aws_session_token=token)
            _frozen[0] = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=when)
            expected = client.generate_db_auth_token(host, port, user, Region=region)
            out.write(json.dumps({
                "host": host, "port": port, "user": user, "region": region,
                "access_key_id": akid, "secret_access_key": secret,
                "session_token": token, "time": when, "token": expected,
            }, ensure_ascii=True) + "\n")


if __name__ == "__main__":
    main()
