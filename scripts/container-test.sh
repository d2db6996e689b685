#!/usr/bin/env bash
# Builds the perpgw image with podman + runc (no Docker engine needed) and runs it for real:
#   1. base images debian:bookworm and debian:bookworm-slim from `debootstrap --variant=minbase`
#      when podman does not have them (no image registry is needed);
#   2. the image (`podman build --format docker`: the docker format keeps the HEALTHCHECK);
#   3. one pod with a perpgw-sim container and a perpgwd container (same image), checked from
#      the host: the processes run as uid 10001, podman reports the image's HEALTHCHECK healthy,
#      Aster, Backpack and Paradex books LIVE and funding through the gateway (with the image's
#      own perpgw-cli), /metrics served on the published port, then SIGTERM: exit code 0 within
#      the 10 s grace period;
#   4. the same with a TLS gateway config (self-signed CA made here): TLS calls with the CA,
#      plaintext refused, the health probe over TLS (`health-check --tls-ca`) as the container's
#      health command;
#   5. with --compose: deploy/docker-compose.yml profile `sim` with podman-compose (the sim,
#      gateway, strategy and Prometheus containers; service names resolving; Prometheus
#      scraping the gateway; the example strategy's scan with its token), then `down`;
#   6. with --nats: profile `nats` (deploy/nats.Dockerfile image from Debian's nats-server): a
#      3-node JetStream cluster (2 routes per node, JetStream meta cluster of 3 with a leader),
#      gw-aster and gw-backpack publishing to it, perpgw-nats-book consumers printing LIVE
#      aster and backpack books; sharding by account: gw-aster-orders (a second aster sim
#      account, publish.nats.market_data: false) and strategy-aster (perpgw-nats-book --symbol
#      BTC --orders <that account> --durable strategy-aster) printing a LIVE book and the order
#      event of an order placed here through gw-aster-orders (the image's perpgw-cli), no gap;
#      nats-1 (gw-aster's and a consumer's server) is stopped and both books must keep advancing
#      LIVE through the other two; then `down`. The consumers run the image's own
#      perpgw-nats-book.
# Leaves nothing running (containers, pods and networks it made are removed on exit; images
# stay for the next run, `--rmi` removes perpgw:ct too).
# Run by hand as root (podman rootful), ~11 min for the image on 2 cores; not part of CI.
# Usage: scripts/container-test.sh [--skip-build] [--compose] [--nats] [--rmi]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
IMAGE=perpgw:ct
SKIP_BUILD=0
COMPOSE=0
NATS=0
RMI=0
for a in "$@"; do
  case "$a" in
    --skip-build) SKIP_BUILD=1 ;;
    --compose) COMPOSE=1 ;;
    --nats) NATS=1 ;;
    --rmi) RMI=1 ;;
    -h|--help) sed -n 2,30p "$0"; exit 0 ;;
    *) echo "unknown argument $a" >&2; exit 2 ;;
  esac
done

log() { printf '== %s\n' "$*" >&2; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

if [[ $(id -u) -ne 0 ]]; then fail "run as root (rootful podman; sudo $0)"; fi
missing=()
for t in podman runc debootstrap openssl curl python3; do
  command -v "$t" >/dev/null || missing+=("$t")
done
if [[ $COMPOSE == 1 || $NATS == 1 ]] && ! command -v podman-compose >/dev/null; then missing+=(podman-compose); fi
if (( ${#missing[@]} )); then
  log "installing ${missing[*]} (Debian packages)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

TMP=$(mktemp -d /tmp/perpgw-ct.XXXXXX)
chmod 755 "$TMP"
# podman's settings for this run only (CONTAINERS_CONF): runc, cgroupfs (no systemd), and
# ulimits no higher than this process's own. Podman's defaults (nofile 1048576, nproc 32768)
# need CAP_SYS_RESOURCE to raise the hard limit; without it every container start fails with
# "error setting rlimit type 7: operation not permitted" (seen on these VMs).
NOFILE=$(ulimit -Hn)
[[ $NOFILE == unlimited || $NOFILE -gt 1048576 ]] && NOFILE=1048576
cat > "$TMP/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$NOFILE:$NOFILE", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
export CONTAINERS_CONF="$TMP/containers.conf"
# Without systemd podman cannot schedule HEALTHCHECK timers and says so on every container
# start and stop; `podman healthcheck run` (used below) is the probe. That one message is dropped.
podman() { command podman "$@" 2> >(grep -v 'systemd connection' >&2); }
P=(podman)
POD=perpgw-ct
PC=(podman-compose -p perpgw-ct-compose)  # never the name of a user's own deployment

cleanup() {
  local rc=$?
  "${P[@]}" pod rm -f -t 2 "$POD" >/dev/null 2>&1 || true
  if [[ ($COMPOSE == 1 || $NATS == 1) && -d $TMP/deploy ]]; then
    (cd "$TMP/deploy" && "${PC[@]}" down -v >/dev/null 2>&1) || true
    command podman network rm -f perpgw-ct-compose_default >/dev/null 2>&1 || true
  fi
  [[ $RMI == 1 ]] && "${P[@]}" rmi -f "$IMAGE" perpgw-strategy:ct perpgw-prometheus:ct perpgw-nats:ct >/dev/null 2>&1
  rm -rf "$TMP"
  if [[ $rc -eq 0 ]]; then echo "PASS container-test"; else echo "FAIL container-test (exit $rc)" >&2; fi
}
trap cleanup EXIT

# ---------------------------------------------------------------------------- 1. base images
if ! "${P[@]}" image exists debian:bookworm; then
  log "debootstrap --variant=minbase bookworm (base image; no registry needed)"
  debootstrap --variant=minbase bookworm "$TMP/rootfs" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" \
    > "$TMP/debootstrap.log" 2>&1 || { tail -20 "$TMP/debootstrap.log"; fail "debootstrap"; }
  tar -C "$TMP/rootfs" -c . | "${P[@]}" import - debian:bookworm >/dev/null
  rm -rf "$TMP/rootfs"
fi
"${P[@]}" image exists debian:bookworm-slim || "${P[@]}" tag debian:bookworm debian:bookworm-slim

# ---------------------------------------------------------------------------- 2. the image
if [[ $SKIP_BUILD == 0 ]]; then
  log "podman build (the image's lean build target; ~11 min on 2 cores)"
  start=$(date +%s)
  "${P[@]}" build --format docker --network=host -t "$IMAGE" . > "$TMP/build.log" 2>&1 \
    || { tail -40 "$TMP/build.log"; fail "podman build"; }
  log "image built in $(( $(date +%s) - start )) s: $("${P[@]}" image inspect "$IMAGE" --format '{{.Size}}') bytes"
fi
"${P[@]}" image exists "$IMAGE" || fail "no image $IMAGE (run without --skip-build)"
hc=$("${P[@]}" image inspect "$IMAGE" --format '{{json .Config.Healthcheck}}')
[[ $hc == *health-check* ]] || fail "the image has no HEALTHCHECK: $hc"
user=$("${P[@]}" image inspect "$IMAGE" --format '{{.Config.User}}')
[[ $user == perpgw ]] || fail "the image's USER is '$user', expected perpgw"
for b in perpgwd perpgw-sim perpgw-cli perpgw-replay; do
  "${P[@]}" run --rm --entrypoint sh "$IMAGE" -c "command -v $b" >/dev/null || fail "$b missing from the image"
done
if "${P[@]}" run --rm --entrypoint sh "$IMAGE" -c 'ls /usr/local/bin' | grep -q -e test -e bench; then
  fail "test or bench binaries in the runtime image"
fi

# ---------------------------------------------------------------------------- 3. pod: sim + gateway
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
GRPC=$(free_port); METRICS=$(free_port)
TOKEN=$(openssl rand -hex 24)
mkdir -p "$TMP/cfg"
cat > "$TMP/cfg/sim.yaml" <<'EOF'
bind: 127.0.0.1
control_port: 18100
seed: 42
rate: 50
depth: 20
funding_timer: true
venues:
  aster: {port: 18101}
  backpack: {port: 18102}
  paradex: {port: 18103}
EOF
gateway_config() {  # $1: extra YAML (tls block)
  cat <<EOF
listen: 0.0.0.0:50051
log_level: info
metrics: {listen: "0.0.0.0:9464"}
auth:
  tokens:
    - {name: ct, token: {env: PERPGW_TOKEN_CT}, scopes: [read]}
venues:
  aster: {rest_url: "http://127.0.0.1:18101", ws_url: "ws://127.0.0.1:18101", symbols: [BTC, ETH]}
  backpack: {rest_url: "http://127.0.0.1:18102", ws_url: "ws://127.0.0.1:18102", symbols: [BTC, ETH]}
  paradex: {rest_url: "http://127.0.0.1:18103/v1", ws_url: "ws://127.0.0.1:18103/v1", symbols: [BTC, ETH]}
orders: {journal_dir: /var/lib/perpgw/journal, fsync: always}
$1
EOF
}
gateway_config "" > "$TMP/cfg/plain.yaml"
chmod -R a+rX "$TMP/cfg"

log "pod $POD: grpc 127.0.0.1:$GRPC, metrics 127.0.0.1:$METRICS"
"${P[@]}" pod create --name "$POD" -p "127.0.0.1:$GRPC:50051" -p "127.0.0.1:$METRICS:9464" >/dev/null
"${P[@]}" run -d --pod "$POD" --name "$POD-sim" -v "$TMP/cfg:/etc/perpgw-ct:ro" \
  --entrypoint perpgw-sim "$IMAGE" --config /etc/perpgw-ct/sim.yaml >/dev/null

wait_for() {  # $1 seconds, then a command; polls every 0.5 s
  local until=$(( $(date +%s) + $1 )); shift
  while (( $(date +%s) < until )); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  "$@"
}
cli() {  # perpgw-cli inside the gateway container: $1 container, $2 extra flags, rest = args
  local c=$1 flags=$2; shift 2
  # shellcheck disable=SC2086
  "${P[@]}" exec "$c" perpgw-cli $flags -H "authorization: Bearer $TOKEN" -max-time 5 "$@"
}
book_live() {  # $1 container $2 flags $3 venue
  cli "$1" "$2" -d "{\"market\":{\"venue\":\"$3\",\"symbol\":\"BTC\"},\"depth\":3}" 127.0.0.1:50051 \
    call perpgw.v1.MarketDataService/GetOrderBook | grep -q '"status": *"BOOK_STATUS_LIVE"'
}

run_gateway() {  # $1 name, $2 config file in cfg/, then extra podman args
  local name=$1 cfg=$2; shift 2
  "${P[@]}" run -d --pod "$POD" --name "$name" -e PERPGW_TOKEN_CT="$TOKEN" \
    -v "$TMP/cfg:/etc/perpgw-ct:ro" --stop-timeout 10 "$@" "$IMAGE" \
    --config "/etc/perpgw-ct/$cfg" >/dev/null
}
check_stop() {  # $1 container: SIGTERM, exit 0 within the grace period
  local t0 t1 code
  t0=$(date +%s%N)
  "${P[@]}" stop -t 10 "$1" >/dev/null
  t1=$(date +%s%N)
  code=$("${P[@]}" inspect "$1" --format '{{.State.ExitCode}}')
  log "$1 stopped in $(( (t1 - t0) / 1000000 )) ms, exit code $code"
  [[ $code == 0 ]] || { "${P[@]}" logs --tail 30 "$1" >&2; fail "$1 exit code $code on SIGTERM"; }
  (( (t1 - t0) / 1000000 < 10000 )) || fail "$1 needed the whole grace period (SIGKILL)"
}

run_gateway "$POD-gw" plain.yaml
uid=$("${P[@]}" exec "$POD-gw" id -u)
[[ $uid == 10001 ]] || fail "perpgwd runs as uid $uid"
# podman runs HEALTHCHECKs from systemd timers; without systemd `podman healthcheck run` is the
# probe, and it records the status podman reports in inspect.
wait_for 60 "${P[@]}" healthcheck run "$POD-gw" || { "${P[@]}" logs --tail 40 "$POD-gw" >&2; fail "healthcheck"; }
health=$("${P[@]}" inspect "$POD-gw" --format '{{.State.Health.Status}}')
[[ $health == healthy ]] || fail "podman reports health '$health'"
log "uid $uid, health $health"
for v in aster backpack paradex; do
  wait_for 60 book_live "$POD-gw" -plaintext "$v" || fail "$v BTC book not LIVE through the container"
done
funding=$(cli "$POD-gw" -plaintext -d '{}' 127.0.0.1:50051 call perpgw.v1.FundingService/ListFunding)
for v in aster backpack paradex; do
  grep -q "\"venue\": *\"$v\"" <<<"$funding" || fail "no $v funding: $funding"
done
# From the host through the published ports: gRPC needs the token (0.0.0.0 listen), metrics.
if [[ -x build/examples/perpgw-cli ]]; then
  build/examples/perpgw-cli -plaintext -max-time 5 127.0.0.1:"$GRPC" call perpgw.v1.GatewayService/ListVenues \
    >/dev/null 2>&1 && fail "an unauthenticated call was answered on the published port"
  build/examples/perpgw-cli -plaintext -max-time 5 -H "authorization: Bearer $TOKEN" 127.0.0.1:"$GRPC" \
    call perpgw.v1.GatewayService/ListVenues | grep -q paradex || fail "ListVenues from the host"
fi
metrics=$(curl -sf "127.0.0.1:$METRICS/metrics") || fail "metrics on 127.0.0.1:$METRICS"
grep -q '^perpgw_' <<<"$metrics" || fail "no perpgw_ metrics"
log "books LIVE (aster, backpack, paradex), funding, metrics ($(grep -c '^perpgw_' <<<"$metrics") series)"
check_stop "$POD-gw"
"${P[@]}" rm "$POD-gw" >/dev/null

# ---------------------------------------------------------------------------- 4. TLS gateway
log "TLS gateway"
(
  cd "$TMP/cfg"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=perpgw-ct-ca -keyout ca.key \
    -out ca.pem 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key -out server.csr 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > san.ext
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
    -extfile san.ext -out server.pem 2>/dev/null
  rm -f ca.key server.csr san.ext ca.srl
  chmod 644 ./*.pem server.key
)
gateway_config "tls: {cert_file: /etc/perpgw-ct/server.pem, key_file: /etc/perpgw-ct/server.key}" \
  > "$TMP/cfg/tls.yaml"
chmod a+r "$TMP/cfg/tls.yaml"
run_gateway "$POD-tls" tls.yaml \
  --health-cmd '["perpgwd","health-check","--addr","127.0.0.1:50051","--tls-ca","/etc/perpgw-ct/ca.pem"]'
wait_for 60 "${P[@]}" healthcheck run "$POD-tls" || { "${P[@]}" logs --tail 40 "$POD-tls" >&2; fail "TLS healthcheck"; }
[[ $("${P[@]}" inspect "$POD-tls" --format '{{.State.Health.Status}}') == healthy ]] || fail "TLS health"
"${P[@]}" exec "$POD-tls" perpgwd health-check --addr 127.0.0.1:50051 >/dev/null 2>&1 \
  && fail "a plaintext health probe was answered by the TLS gateway"
wait_for 60 book_live "$POD-tls" "-cacert /etc/perpgw-ct/ca.pem" paradex || fail "TLS: paradex book"
cli "$POD-tls" -plaintext -d '{}' 127.0.0.1:50051 call perpgw.v1.GatewayService/ListVenues >/dev/null 2>&1 \
  && fail "TLS gateway answered plaintext"
log "TLS: healthy over TLS, books LIVE with the CA, plaintext refused"
check_stop "$POD-tls"
check_stop "$POD-sim"
"${P[@]}" pod rm -f -t 2 "$POD" >/dev/null

# ---------------------------------------------------------------------------- 5. compose
compose_dir() {  # $TMP/deploy, once
  [[ -d $TMP/deploy ]] && return 0
  cp -r "$ROOT/deploy" "$TMP/deploy"
  for e in "$ROOT"/* "$ROOT"/.dockerignore; do
    [[ $(basename "$e") == deploy ]] || ln -s "$e" "$TMP/$(basename "$e")"
  done
  cp "$ROOT/deploy/secrets.example.env" "$TMP/deploy/.env"
  sed -i "s/^PERPGW_TOKEN_STRATEGY=.*/PERPGW_TOKEN_STRATEGY=$TOKEN/" "$TMP/deploy/.env"
}
if [[ $COMPOSE == 1 ]]; then
  log "podman-compose: deploy/docker-compose.yml, profile sim"
  # A copy of deploy/ (its .env is ours, never the user's) beside links to the rest of the
  # checkout, so the compose file's build contexts (..) resolve.
  compose_dir
  # The strategy image, and Prometheus from Debian's package (no Docker Hub here).
  "${P[@]}" build --format docker --network=host -t perpgw-strategy:ct -f deploy/strategy.Dockerfile . \
    > "$TMP/build-strategy.log" 2>&1 || { tail -30 "$TMP/build-strategy.log"; fail "strategy image"; }
  "${P[@]}" build --format docker --network=host -t perpgw-prometheus:ct -f deploy/prometheus.Dockerfile deploy \
    > "$TMP/build-prometheus.log" 2>&1 || { tail -30 "$TMP/build-prometheus.log"; fail "prometheus image"; }
  cd "$TMP/deploy"
  export PERPGW_TAG=ct PROMETHEUS_IMAGE=perpgw-prometheus:ct  # the images built above
  # Debian's podman-compose 1.0.3 has no --profile: the sim profile's services are named.
  PROFILE=()
  podman-compose --help 2>&1 | grep -q -- '--profile' && PROFILE=(--profile sim)
  "${PC[@]}" "${PROFILE[@]}" up -d --no-build perpgw-sim perpgwd prometheus \
    > "$TMP/compose-up.log" 2>&1 || { cat "$TMP/compose-up.log" >&2; fail "podman-compose up"; }
  gw=$(podman ps --format '{{.Names}}' | grep -m1 'perpgw-ct-compose_perpgwd') || fail "no perpgwd container"
  wait_for 90 podman healthcheck run "$gw" || { podman logs --tail 40 "$gw" >&2; fail "compose perpgwd health"; }
  # Service names resolve: the gateway reached perpgw-sim by name (books LIVE).
  wait_for 60 book_live "$gw" -plaintext backpack || fail "compose: backpack book (perpgw-sim by name)"
  wait_for 60 sh -c "curl -sf 127.0.0.1:9090/api/v1/targets | grep -q '\"health\":\"up\"'" \
    || fail "Prometheus does not scrape perpgwd:9464"
  out=$("${PC[@]}" "${PROFILE[@]}" run --rm strategy --token-env PERPGW_TOKEN_STRATEGY --limit 3 2>&1) \
    || { echo "$out" >&2; fail "strategy scan"; }
  grep -q "spread_8h" <<<"$out" || { echo "$out" >&2; fail "the strategy printed no funding table"; }
  # The strategy's environment: its token, and none of the venue secrets the gateway gets.
  env_out=$("${PC[@]}" "${PROFILE[@]}" run --rm --entrypoint /bin/sh strategy -c env 2>&1) || true
  grep -q "^PERPGW_TOKEN_STRATEGY=$TOKEN" <<<"$env_out" || { echo "$env_out" >&2; fail "strategy token"; }
  if grep -q -e '^SIM_' -e 'API_SECRET' -e 'STARK' <<<"$env_out"; then
    fail "the strategy container got venue secrets"
  fi
  log "compose: healthy, books LIVE by service name, Prometheus target up, strategy scan ok, strategy env has its token only"
  "${PC[@]}" "${PROFILE[@]}" down -v > /dev/null 2>&1
fi

# ---------------------------------------------------------------------------- 6. NATS cluster
if [[ $NATS == 1 ]]; then
  log "podman-compose: deploy/docker-compose.yml, profile nats"
  cd "$ROOT"
  compose_dir
  "${P[@]}" build --format docker --network=host -t perpgw-nats:ct -f deploy/nats.Dockerfile deploy \
    > "$TMP/build-nats.log" 2>&1 || { tail -30 "$TMP/build-nats.log"; fail "nats image"; }
  cd "$TMP/deploy"
  export PERPGW_TAG=ct
  PROFILE=()
  podman-compose --help 2>&1 | grep -q -- '--profile' && PROFILE=(--profile nats)
  up() { "${PC[@]}" "${PROFILE[@]}" up -d --no-build "$@" >> "$TMP/compose-nats.log" 2>&1 \
           || { cat "$TMP/compose-nats.log" >&2; fail "podman-compose up $*"; }; }
  ctr() {
    podman ps -a --format '{{.Names}}' | grep -m1 "perpgw-ct-compose_$1_" \
      || { tail -20 "$TMP/compose-nats.log" >&2; fail "no $1 container"; }
  }
  # 2 routes on each node (full mesh of 3) and a JetStream meta cluster of 3 with a leader.
  cluster_ok() {  # $1: monitoring ports
    local port
    for port in "$@"; do
      curl -sf "127.0.0.1:$port/routez" | python3 -c \
        'import json,sys; d=json.load(sys.stdin); sys.exit(d["num_routes"] != '$(( $# - 1 ))')' || return 1
      curl -sf "127.0.0.1:$port/jsz" | python3 -c \
        'import json,sys; m=json.load(sys.stdin).get("meta_cluster") or {}; sys.exit(not (m.get("cluster_size") == 3 and m.get("leader")))' \
        || return 1
    done
  }
  up nats-1 nats-2 nats-3
  wait_for 60 cluster_ok 8222 8223 8224 || { podman logs --tail 20 "$(ctr nats-1)" >&2; fail "NATS cluster not formed"; }
  log "NATS: 3 nodes, 2 routes each, JetStream meta leader $(curl -sf 127.0.0.1:8222/jsz | python3 -c 'import json,sys; print(json.load(sys.stdin)["meta_cluster"]["leader"])')"
  up perpgw-sim gw-aster gw-aster-orders gw-backpack
  for g in gw-aster gw-aster-orders gw-backpack; do
    c=$(ctr "$g")
    wait_for 90 podman healthcheck run "$c" || { podman logs --tail 40 "$c" >&2; fail "$g health"; }
  done
  # The streams (one replica each) live on one node: asked of every node.
  streams_ok() {
    local s
    s=$(for port in 8222 8223 8224; do curl -sf "127.0.0.1:$port/jsz?streams=true"; done)
    grep -q '"name": *"PERPGW_BOOKS"' <<<"$s" && grep -q '"name": *"PERPGW_ORDERS"' <<<"$s"
  }
  wait_for 30 streams_ok || { podman logs "$(ctr gw-aster)" 2>&1 | grep -i nats | tail -10 >&2; fail "no PERPGW_BOOKS/PERPGW_ORDERS streams in the cluster"; }
  log "JetStream streams PERPGW_BOOKS and PERPGW_ORDERS created by the gateways"
  up nats-book-aster nats-book-backpack strategy-aster
  # book_state CONTAINER [SKIP]: the last book line after SKIP log lines, as "live messages"
  # (strategy-aster's log also has order_event lines).
  book_state() {
    podman logs "$1" 2>/dev/null | tail -n +"$(( ${2:-0} + 1 ))" | grep '^{"synced"' | tail -1 | python3 -c \
      'import json,sys; d=json.loads(sys.stdin.read()); print("%s %d %d" % (d["live"], d["messages"], d["bid_levels"]))'
  }
  book_live_nats() { [[ $(book_state "$@") == True* ]]; }
  for v in aster backpack; do
    wait_for 60 book_live_nats "$(ctr nats-book-$v)" \
      || { podman logs --tail 5 "$(ctr nats-book-$v)" >&2; fail "$v book from NATS not LIVE"; }
    log "$v book rebuilt from NATS: $(podman logs "$(ctr nats-book-$v)" 2>/dev/null | grep '^{' | tail -1 | cut -c1-200)"
  done
  # Sharding by account: gw-aster-orders publishes order events only (gw-aster alone publishes
  # aster's market data); strategy-aster takes the aster book from NATS and that account's
  # order events from JetStream through its durable consumer. An order placed through
  # gw-aster-orders must reach the strategy as an order_event line, with no order_gap line.
  oc=$(ctr gw-aster-orders)
  grep -q 'market_data: false' <<<"$(podman logs "$oc" 2>&1)" \
    || { podman logs --tail 20 "$oc" >&2; fail "gw-aster-orders is not an orders-only NATS publisher"; }
  sc=$(ctr strategy-aster)
  wait_for 60 book_live_nats "$sc" || { podman logs --tail 5 "$sc" >&2; fail "strategy-aster: aster book from NATS not LIVE"; }
  wait_for 60 book_live "$oc" -plaintext aster || fail "gw-aster-orders: aster book"
  btc='"market":{"venue":"aster","symbol":"BTC"}'
  inst=$(cli "$oc" -plaintext -d "{$btc}" 127.0.0.1:50051 call perpgw.v1.InstrumentService/GetInstrument) \
    || fail "gw-aster-orders: GetInstrument"
  book=$(cli "$oc" -plaintext -d "{$btc,\"depth\":1}" 127.0.0.1:50051 call perpgw.v1.MarketDataService/GetOrderBook) \
    || fail "gw-aster-orders: GetOrderBook"
  # A resting buy 3 % under the best bid (price rounded passively to the tick), the minimum size
  # (raised to the minimum notional when the venue has one).
  order=$(python3 -c '
import json, sys
from decimal import Decimal, ROUND_CEILING
inst, book = json.loads(sys.argv[1]), json.loads(sys.argv[2])
price = (Decimal(book["bids"][0]["price"]) * Decimal("0.97")).quantize(Decimal("0.01"))
step = Decimal(inst.get("step_size") or "0.001")
size = Decimal(inst.get("min_size") or "0") or step
if inst.get("min_notional"):
    need = (Decimal(inst["min_notional"]) * Decimal("1.1") / price / step).to_integral_value(ROUND_CEILING) * step
    size = max(size, need)
print(json.dumps({"account": "aster-v3-main", "market": {"venue": "aster", "symbol": "BTC"},
                  "client_order_id": sys.argv[3], "side": "SIDE_BUY", "type": "ORDER_TYPE_LIMIT",
                  "time_in_force": "TIME_IN_FORCE_GTC", "price": str(price),
                  "size": format(size.normalize(), "f"), "rounding": "ROUNDING_PASSIVE"}))
' "$inst" "$book" "ct-nats-$$") || fail "order request from $inst / $book"
  placed=$(cli "$oc" -plaintext -d "$order" 127.0.0.1:50051 call perpgw.v1.TradingService/PlaceOrder) \
    || { echo "$placed" >&2; fail "PlaceOrder through gw-aster-orders"; }
  grep -q '"outcome": *"ACK_OUTCOME_ACCEPTED"' <<<"$placed" || { echo "$order -> $placed" >&2; fail "order not accepted"; }
  strategy_saw() { grep -q "^{\"order_event\".*\"client_order_id\":\"ct-nats-$$\"" <<<"$(podman logs "$sc" 2>/dev/null)"; }
  wait_for 30 strategy_saw || { podman logs --tail 10 "$sc" >&2; fail "strategy-aster printed no order event for the order"; }
  if grep -q '^{"order_gap"' <<<"$(podman logs "$sc" 2>/dev/null)"; then
    podman logs "$sc" 2>/dev/null | grep '^{"order' >&2; fail "strategy-aster reported an order-event gap"
  fi
  log "strategy-aster: book LIVE ($(book_state "$sc")) and $(podman logs "$sc" 2>/dev/null | grep -c '^{"order_event"') order event(s) of aster-v3-main from JetStream, no gap: $(podman logs "$sc" 2>/dev/null | grep '^{"order_event"' | tail -1 | cut -c1-220)"
  # The order rests on the sim: cancelled so the account is clean for the next run.
  cli "$oc" -plaintext -d '{"account":"aster-v3-main","venue":"aster"}' 127.0.0.1:50051 \
    call perpgw.v1.TradingService/CancelAllOrders >/dev/null || true

  # nats-1: the seed of gw-aster (publisher) and of the backpack consumer; both must fail
  # over to the nodes the cluster told them about.
  victim=nats-1
  declare -A before lines
  for v in aster backpack; do
    c=$(ctr nats-book-$v)
    before[$v]=$(book_state "$c" | cut -d' ' -f2)
    lines[$v]=$(podman logs "$c" 2>/dev/null | wc -l)
  done
  log "stopping $victim (consumers at aster ${before[aster]}, backpack ${before[backpack]} messages)"
  podman stop -t 10 "$(ctr "$victim")" >/dev/null
  ports=()
  for i in 1 2 3; do [[ nats-$i == "$victim" ]] || ports+=($(( 8221 + i ))); done
  two_nodes() {
    local port
    for port in "${ports[@]}"; do
      curl -sf "127.0.0.1:$port/routez" | grep -q '"num_routes": *1' || return 1
    done
  }
  wait_for 30 two_nodes || fail "the remaining nodes still route to $victim"
  advancing() {  # $1 venue: LIVE in a line printed after the stop, more messages than before
    local st
    st=$(book_state "$(ctr "nats-book-$1")" "$(( ${lines[$1]} + 3 ))") || return 1
    [[ $st == True* ]] && (( $(cut -d' ' -f2 <<<"$st") > ${before[$1]} + 5 ))
  }
  for v in aster backpack; do
    wait_for 60 advancing "$v" || { podman logs --tail 5 "$(ctr nats-book-$v)" >&2; fail "$v book stalled with $victim down"; }
    log "$v with $victim down: $(book_state "$(ctr nats-book-$v)") (live messages bid_levels)"
  done
  log "NATS profile: cluster of 3, sharded by venue and account, books LIVE from NATS for aster and backpack, strategy-aster's order events from JetStream, books still advancing with $victim stopped"
  "${PC[@]}" "${PROFILE[@]}" down -v > /dev/null 2>&1
fi
