#!/usr/bin/env python3
"""Fetch one disclosure-controlled statistic from the regstat query service over Arrow Flight
with mutual TLS, into a pandas DataFrame.

    python3 clients/python/fetch_statistic.py --addr 127.0.0.1:50054 \
        --cert var/demo/certs/analytics.pem --key var/demo/certs/analytics.key \
        --ca var/demo/certs/ca.pem --statistic municipal_support_before_after \
        --delivery <delivery id>

Needs `pip install pyarrow pandas`. The certificate must be an analytics identity's
(`make certs` writes `analytics.pem`/`.key`). The ticket is the JSON the service documents:
{"statistic", "delivery_id", "from_year", "to_year"}; an empty delivery id means the newest.
`--list` prints the statistics the service offers (ListFlights) instead.
"""

import argparse
import json
import sys

import pandas as pd
import pyarrow.flight as flight


def connect(addr, cert, key, ca):
    """A Flight client with mutual TLS. The service's certificate names the identity
    query.regstat.internal, whatever address it is reached on."""
    with open(ca, "rb") as f:
        root = f.read()
    with open(cert, "rb") as f:
        chain = f.read()
    with open(key, "rb") as f:
        private = f.read()
    return flight.FlightClient(
        f"grpc+tls://{addr}",
        tls_root_certs=root,
        cert_chain=chain,
        private_key=private,
        override_hostname="query.regstat.internal",
    )


def fetch(client, statistic, delivery_id="", from_year=0, to_year=0):
    """One statistic as a DataFrame: dimension columns, then n, denominator, share_pct, and the
    rule that hid each of them (suppressed, denominator_suppressed, share_suppressed; empty =
    shown). Years 0/0: the years the delivery was linked for; years outside it are refused."""
    ticket = json.dumps(
        {"statistic": statistic, "delivery_id": delivery_id, "from_year": from_year, "to_year": to_year}
    ).encode()
    table = client.do_get(flight.Ticket(ticket)).read_all()
    # Nullable Arrow types stay nullable (a suppressed n is <NA>, not a float NaN).
    return table.to_pandas(types_mapper=pd.ArrowDtype)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--addr", default="127.0.0.1:50054", help="query service host:port")
    p.add_argument("--cert", required=True, help="analytics certificate (PEM)")
    p.add_argument("--key", required=True, help="its private key (PEM)")
    p.add_argument("--ca", required=True, help="the platform CA (PEM)")
    p.add_argument("--statistic", help="statistic id (see --list)")
    p.add_argument("--delivery", default="", help="delivery id (default: the newest)")
    p.add_argument("--from-year", type=int, default=0, help="first decision year (0: the delivery's)")
    p.add_argument("--to-year", type=int, default=0, help="last decision year (0: the delivery's)")
    p.add_argument("--list", action="store_true", help="list the statistics and exit")
    a = p.parse_args()

    client = connect(a.addr, a.cert, a.key, a.ca)
    if a.list:
        for info in client.list_flights():
            ticket = json.loads(info.descriptor.command)
            print(f"{ticket['statistic']:<34} {ticket['from_year']}-{ticket['to_year']}  delivery {ticket['delivery_id']}")
        return 0
    if not a.statistic:
        p.error("--statistic is required (or --list)")
    try:
        df = fetch(client, a.statistic, a.delivery, a.from_year, a.to_year)
    except flight.FlightError as e:
        print(f"fetch_statistic: {e}", file=sys.stderr)
        return 1
    df.to_csv(sys.stdout, index=False)
    print(f"{len(df)} rows, {int(df['n'].isna().sum())} suppressed counts", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
