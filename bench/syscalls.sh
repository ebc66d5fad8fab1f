#!/usr/bin/env bash
# syscalls.sh: system calls per proxied connection, FProxy and HAProxy side by side.
#
# Usage: bench/syscalls.sh [--quick] [--proxies "haproxy fproxy"] [--conns 1000] [--warmup 300]
#                          [--size 100] [--out DIR]
#   --quick   smoke run: 200 connections after 100 warm-up ones
#
# Each proxy (an adapter of bench/proxies/, pinned to CPU $PROXY_CPU) is started in front of a
# small echo backend and warmed up with --warmup connections. Then `strace -f -p PID` is
# attached to every thread of it while a client (CPU $LOAD_CPU) makes --conns sequential
# connections: connect, send --size bytes, read the echo, close. Calls that started between the
# client's first connect and its last close are counted, divided by --conns, and printed as a
# markdown table by syscall, with the calls that failed, by errno, in brackets (EAGAIN,
# EINPROGRESS, ...). strace writes every call (not just -c's summary) so that failures can be
# told apart by errno; it slows the proxy down a lot, so this counts calls, it times nothing.
# clock_gettime shows up only where the machine's clock source has no vDSO path; a second total
# leaves it out so machines compare.
# Loopback only; ports $BENCH_PORT_BASE (23500) .. +30.
set -uo pipefail
. "$(dirname "$0")/lib/common.sh"
TOOL="$BENCH_LIB/benchtool.py"

usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit "${1:-2}"; }
PROXIES="haproxy fproxy" CONNS="" WARMUP="" SIZE=100 OUT=""
while [ $# -gt 0 ]; do
  case $1 in
    --quick) CONNS=${CONNS:-200} WARMUP=${WARMUP:-100}; shift ;;
    --proxies) [ $# -ge 2 ] || die "--proxies needs a value"; PROXIES=$2; shift 2 ;;
    --conns) [ $# -ge 2 ] || die "--conns needs a value"; CONNS=$2; shift 2 ;;
    --warmup) [ $# -ge 2 ] || die "--warmup needs a value"; WARMUP=$2; shift 2 ;;
    --size) [ $# -ge 2 ] || die "--size needs a value"; SIZE=$2; shift 2 ;;
    --out) [ $# -ge 2 ] || die "--out needs a value"; OUT=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "unknown option: $1" >&2; usage ;;
  esac
done
CONNS=${CONNS:-1000} WARMUP=${WARMUP:-300}
for v in "$CONNS" "$WARMUP" "$SIZE"; do [[ $v =~ ^[0-9]+$ ]] || die "--conns, --warmup and --size take numbers"; done
[ "$CONNS" -ge 1 ] && [ "$CONNS" -le 100000 ] || die "--conns takes 1..100000"
[ "$SIZE" -ge 1 ] && [ "$SIZE" -le 65536 ] || die "--size takes 1..65536"
BASE=${BENCH_PORT_BASE:-23500}
P_PROXY=$BASE P_ADMIN=$((BASE + 1)) P_ECHO=$((BASE + 30)) P_ECHO_PP=$((BASE + 31))
read -r EPHEMERAL_LOW _ </proc/sys/net/ipv4/ip_local_port_range
[ "$P_ECHO" -lt "$EPHEMERAL_LOW" ] || die "BENCH_PORT_BASE $BASE reaches the ephemeral range ($EPHEMERAL_LOW..)"
OUT=${OUT:-${TMPDIR:-/tmp}/fproxy-syscalls-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT" || die "cannot create $OUT"
OUT=$(realpath "$OUT")
export BENCH_STATE="$OUT/state" PROXY_CPU LOAD_CPU BENCH_LIFETIME=3600
# The echo's twin drops a PROXY protocol header first: adapters asked to send one (fproxy-pp.sh,
# haproxy-pp.sh) go there.
export BENCH_PP_TWINS="127.0.0.1:$P_ECHO 127.0.0.1:$P_ECHO_PP"
mkdir -p "$BENCH_STATE"

need_packages strace:strace python3:python3 taskset:util-linux ss:iproute2 pgrep:procps git:git
for p in $PROXIES; do
  case $(basename "$p" .sh) in
    haproxy*) need_packages haproxy:haproxy ;;
    nginx*) need_packages nginx:nginx /usr/lib/nginx/modules/ngx_stream_module.so:libnginx-mod-stream ;;
  esac
done
raise_nofile
taskset -p -c "$LOAD_CPU" $$ >/dev/null || die "cannot pin to CPU $LOAD_CPU"
for p in $P_PROXY $P_ADMIN $P_ECHO $P_ECHO_PP; do listening "$p" && die "port $p is in use"; done

CUR=""
cleanup() {
  trap - EXIT INT TERM
  reap strace 5
  [ -n "$CUR" ] && "$CUR" stop
  reap backend-echo 2; reap backend-echo-pp 2
}
trap cleanup EXIT
trap 'note interrupted; exit 130' INT TERM

pid=$(spawn backend-echo "$LOAD_CPU" "$BENCH_STATE/backend-echo.log" python3 "$TOOL" echo "$P_ECHO" "$BENCH_LIFETIME")
await_listen "$P_ECHO" "$pid" || die "echo backend did not start"
pid=$(spawn backend-echo-pp "$LOAD_CPU" "$BENCH_STATE/backend-echo-pp.log" python3 "$TOOL" echo "$P_ECHO_PP" "$BENCH_LIFETIME" proxy)
await_listen "$P_ECHO_PP" "$pid" || die "echo backend (PROXY header) did not start"

# traced PID STRACE_PID -> true once every thread of PID has STRACE_PID as its tracer
traced() {
  local s t
  for s in /proc/"$1"/task/*/status; do
    t=$(sed -n 's/^TracerPid:[[:space:]]*//p' "$s" 2>/dev/null) || continue
    [ -z "$t" ] || [ "$t" = "$2" ] || return 1
  done
  return 0
}

for p in $PROXIES; do   # builds first, so none runs next to a measurement
  a=$(adapter_path "$p")
  [ -x "$a" ] || die "no executable adapter $a"
  "$a" prepare || die "$(basename "$a" .sh): prepare failed"
done

NAMES=()
versions=""
for p in $PROXIES; do
  a=$(adapter_path "$p"); n=$(basename "$a" .sh)
  note "$n: start, $WARMUP warm-up connections"
  CUR=$a
  mpid=$("$a" start "$P_PROXY" "127.0.0.1:$P_ECHO" | tail -n1)
  [[ $mpid =~ ^[0-9]+$ ]] || die "$n did not start"
  taskset -a -p -c "$PROXY_CPU" "$mpid" >/dev/null
  versions+="$n: $("$a" version)"$'\n'
  [ "$WARMUP" -gt 0 ] && python3 "$TOOL" dial 127.0.0.1 "$P_PROXY" "$WARMUP" "$SIZE" >/dev/null
  sleep 1

  trace="$OUT/$n.strace"
  spid=$(spawn strace "$LOAD_CPU" "$BENCH_STATE/strace.log" strace -f -qq -ttt -s 0 -o "$trace" -p "$mpid")
  for ((i = 0; i < 100; i++)); do traced "$mpid" "$spid" && break; sleep 0.1; done
  traced "$mpid" "$spid" || die "strace did not attach to $n ($mpid); see $BENCH_STATE/strace.log"
  sleep 0.5
  note "$n: $CONNS connections under strace"
  read -r ok failed < <(timeout 600 python3 "$TOOL" dial 127.0.0.1 "$P_PROXY" "$CONNS" "$SIZE" "$OUT/$n.window")
  sleep 0.5
  reap strace 10
  [ "${ok:-0}" -gt 0 ] || die "$n: no connection succeeded"
  [ "${failed:-0}" = 0 ] || note "$n: $failed of $CONNS connections failed"
  read -r t0 t1 <"$OUT/$n.window"
  python3 "$TOOL" strace "$trace" "$t0" "$t1" "$ok" >"$OUT/$n.json" || die "cannot read $trace"
  "$a" stop; CUR=""
  await_free "$P_PROXY"; await_free "$P_ADMIN" 5
  NAMES+=("$n")
done

{
  echo '```'
  echo "date $(date -Is); commit $(repo_commit); kernel $(uname -r); clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null || echo unknown)"
  echo "$CONNS sequential connections (send $SIZE bytes, read the echo, close) after $WARMUP warm-up ones; $(strace -V | head -n1)"
  printf '%s' "$versions"
  echo '```'
  echo
  args=(); for n in "${NAMES[@]}"; do args+=("$n=$OUT/$n.json"); done
  python3 "$TOOL" sctable "${args[@]}"
} | tee "$OUT/syscalls.md"
note "table: $OUT/syscalls.md; traces: $OUT/*.strace"
