#!/usr/bin/env python3
"""Query the released statistics of the regstat query service with SQL, over Arrow Flight SQL
(ADBC) with mutual TLS.

    python3 clients/python/flight_sql.py --addr 127.0.0.1:50054 \
        --cert var/demo/certs/analytics.pem --key var/demo/certs/analytics.key \
        --ca var/demo/certs/ca.pem \
        --sql "SELECT period, SUM(n) AS n FROM municipal_support_before_after GROUP BY period"

Needs `pip install adbc_driver_flightsql pyarrow`. The certificate must be an analytics
identity's. The catalog is `regstat`; its schemas are the releases the service serves: `latest`
(the newest delivery, every decision year it was linked for; the default schema) and
`d_<delivery id>_<from>_<to>` per delivery and range of decision years. Each schema's tables are
the statistics of the catalogue, with hidden values NULL and the rule that hid them beside
(`suppressed`, `denominator_suppressed`, `share_suppressed`). `--tables` lists them;
`--prepared` runs the statement as a prepared statement. The result is printed as CSV.
"""

import argparse
import sys

import adbc_driver_flightsql.dbapi as flightsql
import pyarrow.csv as pacsv
from adbc_driver_flightsql import DatabaseOptions


def connect(addr, cert, key, ca):
    """An ADBC connection with mutual TLS. The service's certificate names the identity
    query.regstat.internal, whatever address it is reached on."""
    read = lambda p: open(p, encoding="ascii").read()  # noqa: E731
    return flightsql.connect(
        f"grpc+tls://{addr}",
        db_kwargs={
            DatabaseOptions.TLS_ROOT_CERTS.value: read(ca),
            DatabaseOptions.MTLS_CERT_CHAIN.value: read(cert),
            DatabaseOptions.MTLS_PRIVATE_KEY.value: read(key),
            DatabaseOptions.TLS_OVERRIDE_HOSTNAME.value: "query.regstat.internal",
        },
        autocommit=True,
    )


def tables(conn):
    """Every released table as `schema.table`, with its columns (ADBC GetObjects)."""
    objects = conn.adbc_get_objects(depth="all", catalog_filter="regstat").read_all().to_pylist()
    for catalog in objects:
        for schema in catalog["catalog_db_schemas"] or []:
            for table in schema["db_schema_tables"] or []:
                columns = ",".join(c["column_name"] for c in table["table_columns"] or [])
                yield f"{schema['db_schema_name']}.{table['table_name']} {table['table_type']} {columns}"


def query(conn, sql, prepared=False):
    """The statement's result as an Arrow table."""
    with conn.cursor() as cur:
        if prepared:
            cur.adbc_prepare(sql)
        cur.execute(sql)
        return cur.fetch_arrow_table()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--addr", default="127.0.0.1:50054", help="query service host:port")
    p.add_argument("--cert", required=True, help="analytics certificate (PEM)")
    p.add_argument("--key", required=True, help="its private key (PEM)")
    p.add_argument("--ca", required=True, help="the platform CA (PEM)")
    p.add_argument("--sql", help="the statement to run")
    p.add_argument("--prepared", action="store_true", help="run it as a prepared statement")
    p.add_argument("--tables", action="store_true", help="list the released tables and exit")
    a = p.parse_args()
    if not a.tables and not a.sql:
        p.error("--sql is required (or --tables)")
    try:
        with connect(a.addr, a.cert, a.key, a.ca) as conn:
            if a.tables:
                for line in tables(conn):
                    print(line)
                return 0
            result = query(conn, a.sql, a.prepared)
    except flightsql.Error as e:
        print(f"flight_sql: {e}", file=sys.stderr)
        return 1
    pacsv.write_csv(result, sys.stdout.buffer, pacsv.WriteOptions(quoting_style="needed"))
    print(f"{result.num_rows} rows", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
