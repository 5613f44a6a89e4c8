#!/usr/bin/env bash
# The main job (`make demo`): generate the registers if DATA_DIR is empty, make the development
# certificates, start the four services (fk-registry, sos-register, linkage, query) as separate
# processes on loopback with mutual TLS, show what the registries loaded and quarantined, run a
# linkage job that publishes a pseudonymised delivery to the query side's store, verify the
# audit log, ask the query service for the full production of that delivery (every statistic,
# protected and audited as one release) into OUT_DIR, print the headline tables fetched over
# Arrow Flight; then a second job and production for personal assistance by payer (everyone
# with personal assistance, its own project), the scheduled production, and stop the services.
set -euo pipefail
: "${BIN:?}" "${DATA_DIR:?}" "${STATE_DIR:?}" "${PERSONS:?}" "${SEED:?}" "${DIRT:?}"

if [ ! -f "$DATA_DIR/fk/persons.parquet" ] || [ ! -f "$DATA_DIR/fk/assistance_months.parquet" ] || [ ! -f "$DATA_DIR/sos/interventions.parquet" ]; then
  echo "== generating synthetic registers: PERSONS=$PERSONS SEED=$SEED DIRT=$DIRT -> $DATA_DIR"
  "$BIN/regstat-gen" --persons "$PERSONS" --seed "$SEED" --dirt "$DIRT" --out "$DATA_DIR"
else
  echo "== using the registers already in $DATA_DIR"
fi

CERTS="$STATE_DIR/certs"
"$BIN/regstat-certs" --out "$CERTS"
tls() { echo --tls-cert "$CERTS/$1.pem" --tls-key "$CERTS/$1.key" --tls-ca "$CERTS/ca.pem"; }

mkdir -p "$STATE_DIR/fk-registry" "$STATE_DIR/sos-register" "$STATE_DIR/linkage" "$STATE_DIR/query"
SECRET="$STATE_DIR/linkage/master.secret"
if [ ! -f "$SECRET" ]; then   # the pseudonymisation master secret: 64 random bytes, owner-only
  (umask 077; head -c 64 /dev/urandom > "$SECRET")
fi
LINK_ADDR=127.0.0.1:${LINKAGE_PORT:-50053}
FK_ADDR=127.0.0.1:${FK_PORT:-50051}
SOS_ADDR=127.0.0.1:${SOS_PORT:-50052}
QUERY_ADDR=127.0.0.1:${QUERY_PORT:-50054}
# Prometheus metrics (plain HTTP, GET /metrics), one port per service.
METRICS=(127.0.0.1:${FK_METRICS_PORT:-9101} 127.0.0.1:${SOS_METRICS_PORT:-9102} 127.0.0.1:${LINKAGE_METRICS_PORT:-9103} 127.0.0.1:${QUERY_METRICS_PORT:-9104})
pids=()
names=(fk-registry sos-register linkage query)   # in start order, for error messages
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

"$BIN/fk-registry" --listen "$FK_ADDR" --metrics-listen "${METRICS[0]}" --extracts "$DATA_DIR/fk" --state "$STATE_DIR/fk-registry" $(tls fk-registry) \
  >"$STATE_DIR/fk-registry/service.log" 2>&1 &
pids+=($!)
# Socialstyrelsen answers a selection by intervention (everyone's personal assistance, for the
# payer statistics of SPEC-DECISIONS §5c) only for the linkage projects it authorises.
"$BIN/sos-register" --listen "$SOS_ADDR" --metrics-listen "${METRICS[1]}" --extracts "$DATA_DIR/sos" --state "$STATE_DIR/sos-register" $(tls sos-register) \
  --selection-projects assistans-huvudman \
  >"$STATE_DIR/sos-register/service.log" 2>&1 &
pids+=($!)
# The linkage service pushes deliveries to the query service over Arrow Flight (mutual TLS):
# the two share no directory (SPEC §2).
"$BIN/linkage" --metrics-listen "${METRICS[2]}" serve --listen "$LINK_ADDR" --state "$STATE_DIR/linkage" --query-addr "$QUERY_ADDR" \
  --fk-addr "$FK_ADDR" --sos-addr "$SOS_ADDR" --master-secret-file "$SECRET" $(tls linkage) \
  >"$STATE_DIR/linkage/service.log" 2>&1 &
pids+=($!)
"$BIN/query" --metrics-listen "${METRICS[3]}" serve --listen "$QUERY_ADDR" --store "$STATE_DIR/query" --out "$OUT_DIR" $(tls query) \
  >"$STATE_DIR/query/service.log" 2>&1 &
pids+=($!)

# The registries answer only the linkage identity: the demo's inspection uses its certificate.
client() { local addr=$1 id=$2; shift 2; "$BIN/registry-client" --addr "$addr" --server-identity "$id" $(tls linkage) "$@"; }

wait_ready() { # addr name
  for _ in $(seq 1 600); do
    if client "$1" "$2" report >/dev/null 2>&1; then return 0; fi
    for i in "${!pids[@]}"; do
      kill -0 "${pids[$i]}" 2>/dev/null || { n=${names[$i]}; echo "$n exited; see its log:" >&2; tail -5 "$STATE_DIR/$n/service.log" >&2; exit 1; }
    done
    sleep 0.2
  done
  echo "$2 did not become ready" >&2; exit 1
}
wait_ready "$FK_ADDR" fk-registry
wait_ready "$SOS_ADDR" sos-register

echo
echo "== fk-registry ($FK_ADDR): load report and datasets"
client "$FK_ADDR" fk-registry report
client "$FK_ADDR" fk-registry list
echo
echo "== sos-register ($SOS_ADDR): load report and datasets"
client "$SOS_ADDR" sos-register report
client "$SOS_ADDR" sos-register list
echo
echo "== Arrow Flight streams"
client "$FK_ADDR" fk-registry fetch decisions --from 2018-01 --to 2020-12
client "$FK_ADDR" fk-registry fetch benefit_payments --from 2017-01 --to 2021-12
echo "== a wrong identity is refused (the query service's certificate):"
"$BIN/registry-client" --addr "$FK_ADDR" --server-identity fk-registry $(tls query) list 2>&1 | head -1 || true
echo
echo "== linkage job (as the operator identity): decision years 2018-2020"
for _ in $(seq 1 100); do
  kill -0 "${pids[2]}" 2>/dev/null || { echo "linkage exited; see its log:" >&2; tail -5 "$STATE_DIR/linkage/service.log" >&2; exit 1; }
  (exec 3<>"/dev/tcp/${LINK_ADDR%:*}/${LINK_ADDR#*:}") 2>/dev/null && break
  sleep 0.1
done
"$BIN/linkage" submit --addr "$LINK_ADDR" --project assistans-support --from-year 2018 --to-year 2020 $(tls operator) \
  | tee "$STATE_DIR/linkage/last-submit.txt"
DELIVERY=$(sed -n 's/^delivery \([0-9a-f]*\) published.*/\1/p' "$STATE_DIR/linkage/last-submit.txt")
[ -n "$DELIVERY" ] || { echo "the linkage job published no delivery" >&2; exit 1; }
echo
"$BIN/linkage" verify-audit --log "$STATE_DIR/linkage/audit.jsonl"
echo
echo "== full production by the query service (as an analytics identity) on delivery $DELIVERY -> $OUT_DIR"
for _ in $(seq 1 100); do
  kill -0 "${pids[3]}" 2>/dev/null || { echo "query exited; see its log:" >&2; tail -5 "$STATE_DIR/query/service.log" >&2; exit 1; }
  (exec 3<>"/dev/tcp/${QUERY_ADDR%:*}/${QUERY_ADDR#*:}") 2>/dev/null && break
  sleep 0.1
done
"$BIN/query" run --addr "$QUERY_ADDR" --delivery "$DELIVERY" --from-year 2018 --to-year 2020 $(tls analytics)
echo
echo "== personal assistance by payer (SPEC-DECISIONS §5c): a linkage job for everyone with personal assistance, 2014-2024"
"$BIN/linkage" submit --addr "$LINK_ADDR" --project assistans-huvudman --from-year 2014 --to-year 2024 \
  --statistic pa_by_payer --statistic fk_recipients_by_provider --statistic fk_hours_per_recipient $(tls operator) \
  | tee "$STATE_DIR/linkage/last-submit-payer.txt"
PAYER_DELIVERY=$(sed -n 's/^delivery \([0-9a-f]*\) published.*/\1/p' "$STATE_DIR/linkage/last-submit-payer.txt")
[ -n "$PAYER_DELIVERY" ] || { echo "the payer job published no delivery" >&2; exit 1; }
"$BIN/query" run --addr "$QUERY_ADDR" --delivery "$PAYER_DELIVERY" --from-year 2014 --to-year 2024 $(tls analytics)
echo
echo "== the scheduled production (what the CronJob / systemd timer runs): regstat-scheduler run, as the operator"
"$BIN/regstat-scheduler" run --linkage-addr "$LINK_ADDR" --query-addr "$QUERY_ADDR" --from-year 2018 --to-year 2020 $(tls operator)
echo
"$BIN/linkage" verify-audit --log "$STATE_DIR/query/audit.jsonl"
echo
echo "== Prometheus metrics of each service (GET /metrics)"
scrape() { # host:port -> body
  exec 5<>"/dev/tcp/${1%:*}/${1#*:}" && printf 'GET /metrics HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$1" >&5 && cat <&5; exec 5<&-
}
for i in "${!names[@]}"; do
  body=$(scrape "${METRICS[$i]}")
  printf '  %-13s http://%s/metrics  %4d series, %s requests\n' "${names[$i]}" "${METRICS[$i]}" \
    "$(grep -c '^regstat_' <<<"$body")" \
    "$(awk -v s="service=\"${names[$i]}\"" '/^regstat_rpc_requests_total/ && index($0, s) {n += $NF} END {print n+0}' <<<"$body")"
done
echo
echo "Deliveries (query side): $STATE_DIR/query/deliveries/"
echo "Quarantine files:        $STATE_DIR/fk-registry/quarantine/, $STATE_DIR/sos-register/quarantine/"
echo "Audit logs:              $STATE_DIR/linkage/audit.jsonl, $STATE_DIR/query/audit.jsonl"
echo "Service logs:            $STATE_DIR/*/service.log (every line of a job carries its trace_id across services)"
echo "Statistics:              $OUT_DIR/ — <statistic>.csv and .parquet, report.xlsx (report layout, Swedish labels),"
echo "                         disclosure_audit.json, manifest.json; every run is kept in $OUT_DIR/runs/<run_id>/"
