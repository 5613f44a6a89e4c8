#!/usr/bin/env bash
# The main job (`make demo`). Today: generate the registers if DATA_DIR is empty, make the
# development certificates, start the two registries as separate processes on loopback with
# mutual TLS, show what they loaded, quarantined and serve over Arrow Flight, and stop them. Linkage, the query service and the statistics production
# join this script as they are built (see README, "Status").
set -euo pipefail
: "${BIN:?}" "${DATA_DIR:?}" "${STATE_DIR:?}" "${PERSONS:?}" "${SEED:?}" "${DIRT:?}"

if [ ! -f "$DATA_DIR/fk/persons.parquet" ] || [ ! -f "$DATA_DIR/sos/interventions.parquet" ]; then
  echo "== generating synthetic registers: PERSONS=$PERSONS SEED=$SEED DIRT=$DIRT -> $DATA_DIR"
  "$BIN/regstat-gen" --persons "$PERSONS" --seed "$SEED" --dirt "$DIRT" --out "$DATA_DIR"
else
  echo "== using the registers already in $DATA_DIR"
fi

CERTS="$STATE_DIR/certs"
"$BIN/regstat-certs" --out "$CERTS"
tls() { echo --tls-cert "$CERTS/$1.pem" --tls-key "$CERTS/$1.key" --tls-ca "$CERTS/ca.pem"; }

mkdir -p "$STATE_DIR/fk-registry" "$STATE_DIR/sos-register"
FK_ADDR=127.0.0.1:${FK_PORT:-50051}
SOS_ADDR=127.0.0.1:${SOS_PORT:-50052}
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

"$BIN/fk-registry" --listen "$FK_ADDR" --extracts "$DATA_DIR/fk" --state "$STATE_DIR/fk-registry" $(tls fk-registry) \
  >"$STATE_DIR/fk-registry/service.log" 2>&1 &
pids+=($!)
"$BIN/sos-register" --listen "$SOS_ADDR" --extracts "$DATA_DIR/sos" --state "$STATE_DIR/sos-register" $(tls sos-register) \
  >"$STATE_DIR/sos-register/service.log" 2>&1 &
pids+=($!)

# The registries answer only the linkage identity: the demo's inspection uses its certificate.
client() { local addr=$1 id=$2; shift 2; "$BIN/registry-client" --addr "$addr" --server-identity "$id" $(tls linkage) "$@"; }

wait_ready() { # addr name
  for _ in $(seq 1 600); do
    if client "$1" "$2" report >/dev/null 2>&1; then return 0; fi
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || { echo "$2 exited; see its log:" >&2; tail -5 "$STATE_DIR/$2/service.log" >&2; exit 1; }; done
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
echo "Quarantine files: $STATE_DIR/fk-registry/quarantine/, $STATE_DIR/sos-register/quarantine/"
echo "Service logs:     $STATE_DIR/*/service.log"
echo "Not yet part of the demo: linkage, query service and statistics (README, Status)."
