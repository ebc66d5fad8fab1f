#!/usr/bin/env bash
# compare.sh: FProxy next to HAProxy and nginx (stream), and "direct" (no proxy), on loopback.
#
# Usage: bench/compare.sh [--quick] [--runs N] [--proxies "haproxy nginx fproxy"]
#                         [--workloads "bulk cc ka mem"] [--conns N] [--out DIR]
#                         [--history FILE|none]
#
#   --quick      smoke run: 2 s per workload, 300 idle connections (figures are rough)
#   --runs N     repeat the whole comparison N times; the report gives the median of each
#                figure and of each ratio across runs (default 1; use 3 or more for docs)
#   --proxies    adapter names (bench/proxies/NAME.sh) or paths to adapter scripts; ratios are
#                against the first of haproxy / the first proxy listed (default "haproxy nginx fproxy")
#   --workloads  bulk = iperf3 1 and 8 streams, cc = new connections, ka = keep-alive,
#                mem = idle memory (default all)
#   --conns N    idle connections for mem (default 5000, 300 with --quick)
#   --out DIR    where raw output and report.md go (default ${TMPDIR:-/tmp}/fproxy-bench-DATE)
#   --history F  append the median ratios, with the date and git commit, to F (default
#                bench/history.tsv for full runs; --quick runs append only when --history is
#                given); "none" appends nothing
#
# Method (details in bench/README.md): the proxy is pinned to CPU $PROXY_CPU (0), this script,
# the load generators and the backends to CPU $LOAD_CPU (1). Every workload gets a freshly started
# proxy and an unmeasured warm-up. The proxy's CPU time (utime+stime of its process tree, from
# /proc) over the measured window is divided by the work done in it: CPU ms per GB moved, CPU µs
# per new connection, CPU µs per keep-alive request. Idle memory is the growth of the proxy
# process tree's PSS (anonymous and shmem pages) per idle connection.
# Loopback only; ports $BENCH_PORT_BASE (23400) .. +30.
#
# Environment: PROXY_CPU, LOAD_CPU, BENCH_PORT_BASE, WRK_CONNS (32); the adapters read more
# (FPROXY_TRANSPORT, FPROXY_ADMIN_URL, FPROXY_BUILD_FROM: see bench/proxies/fproxy.sh).
set -uo pipefail
. "$(dirname "$0")/lib/common.sh"
TOOL="$BENCH_LIB/benchtool.py"

usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit "${1:-2}"; }
QUICK=0 RUNS=1 PROXIES="haproxy nginx fproxy" WORKLOADS="bulk cc ka mem" CONNS="" OUT="" HISTORY=""
while [ $# -gt 0 ]; do
  case $1 in
    --quick) QUICK=1; shift ;;
    --runs) [ $# -ge 2 ] || die "--runs needs a value"; RUNS=$2; shift 2 ;;
    --proxies) [ $# -ge 2 ] || die "--proxies needs a value"; PROXIES=$2; shift 2 ;;
    --workloads) [ $# -ge 2 ] || die "--workloads needs a value"; WORKLOADS=$2; shift 2 ;;
    --conns) [ $# -ge 2 ] || die "--conns needs a value"; CONNS=$2; shift 2 ;;
    --out) [ $# -ge 2 ] || die "--out needs a value"; OUT=$2; shift 2 ;;
    --history) [ $# -ge 2 ] || die "--history needs a value"; HISTORY=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "unknown option: $1" >&2; usage ;;
  esac
done
[[ $RUNS =~ ^[1-9][0-9]?$ ]] || die "--runs takes 1..99"
for w in $WORKLOADS; do [[ " bulk cc ka mem " == *" $w "* ]] || die "unknown workload $w"; done

if [ $QUICK = 1 ]; then T_BULK=2 T_WRK=2 T_WARM=1 CONNS=${CONNS:-300}
else T_BULK=10 T_WRK=10 T_WARM=3 CONNS=${CONNS:-5000}; fi
[[ $CONNS =~ ^[1-9][0-9]*$ ]] || die "--conns takes a positive number"
if [ -z "$HISTORY" ]; then
  if [ $QUICK = 1 ]; then HISTORY=none; else HISTORY="$BENCH_DIR/history.tsv"; fi
fi
WRK_CONNS=${WRK_CONNS:-32}
BASE=${BENCH_PORT_BASE:-23400}
P_PROXY=$BASE P_ADMIN=$((BASE + 1)) P_IPERF=$((BASE + 10)) P_HTTP=$((BASE + 20)) P_HTTP_PP=$((BASE + 21)) P_ECHO=$((BASE + 30))
read -r EPHEMERAL_LOW _ </proc/sys/net/ipv4/ip_local_port_range
[ "$P_ECHO" -lt "$EPHEMERAL_LOW" ] || die "BENCH_PORT_BASE $BASE reaches the ephemeral range ($EPHEMERAL_LOW..)"

OUT=${OUT:-${TMPDIR:-/tmp}/fproxy-bench-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT" || die "cannot create $OUT"
OUT=$(realpath "$OUT")
export BENCH_STATE="$OUT/state" PROXY_CPU LOAD_CPU
# The HTTP backend's plain port and its twin that reads a PROXY protocol header first: an adapter
# asked to send headers (fproxy-pp.sh, haproxy-pp.sh) targets the twin instead.
export BENCH_PP_TWINS="127.0.0.1:$P_HTTP 127.0.0.1:$P_HTTP_PP"
export BENCH_LIFETIME=$(( RUNS * 1800 + 1800 ))   # bound on everything started, should this script be killed
mkdir -p "$BENCH_STATE"

# ---------------------------------------------------------------- prerequisites
need_packages haproxy:haproxy nginx:nginx /usr/lib/nginx/modules/ngx_stream_module.so:libnginx-mod-stream \
  wrk:wrk iperf3:iperf3 python3:python3 taskset:util-linux ss:iproute2 pgrep:procps git:git
[ "$(nproc)" -ge 2 ] || die "needs at least 2 CPUs (proxy on one, load on another)"
raise_nofile
max_conns=$(( ($(ulimit -n) - 200) / 2 ))
if [ "$CONNS" -gt "$max_conns" ]; then note "open-files limit $(ulimit -n): --conns lowered to $max_conns"; CONNS=$max_conns; fi
taskset -p -c "$LOAD_CPU" $$ >/dev/null || die "cannot pin to CPU $LOAD_CPU"   # inherited by all we start

declare -A ADAPTER=()
TARGETS=(direct) REF=""
for p in $PROXIES; do
  a=$(adapter_path "$p"); n=$(basename "$a" .sh)
  [ -x "$a" ] || die "no executable adapter $a"
  [ -n "${ADAPTER[$n]:-}" ] && continue
  ADAPTER[$n]=$a; TARGETS+=("$n")
  [ -z "$REF" ] && [ "$n" = haproxy ] && REF=$n
done
[ ${#TARGETS[@]} -ge 2 ] || die "no proxy to measure"
[ -n "$REF" ] || REF=${TARGETS[1]}
for p in $P_PROXY $P_ADMIN $P_IPERF $P_HTTP $P_HTTP_PP $P_ECHO; do listening "$p" && die "port $p is in use"; done

# ---------------------------------------------------------------- cleanup
CUR=""   # adapter of the proxy now running
cleanup() {
  trap - EXIT INT TERM
  [ -n "$CUR" ] && "$CUR" stop
  local n; for n in holder iperf-server backend-echo backend-http; do reap "$n" 2; done
}
trap cleanup EXIT
trap 'note interrupted; exit 130' INT TERM

# ---------------------------------------------------------------- backends (load CPU)
BODY=$(printf '%099d' 0 | tr 0 b)   # 99 bytes + "\n" = the 100-byte body
mkdir -p "$BENCH_STATE/backend-http"
cat >"$BENCH_STATE/backend-http.conf" <<CFG
worker_processes 1;
worker_rlimit_nofile $(ulimit -n);
pid $BENCH_STATE/backend-http.nginx.pid;
error_log $BENCH_STATE/backend-http.log warn;
events { worker_connections 8192; }
http {
    access_log off;
    keepalive_requests 100000000;
    client_body_temp_path $BENCH_STATE/backend-http/body;
    proxy_temp_path $BENCH_STATE/backend-http/proxy;
    fastcgi_temp_path $BENCH_STATE/backend-http/fastcgi;
    uwsgi_temp_path $BENCH_STATE/backend-http/uwsgi;
    scgi_temp_path $BENCH_STATE/backend-http/scgi;
    server {
        listen 127.0.0.1:$P_HTTP backlog=4096;
        listen 127.0.0.1:$P_HTTP_PP backlog=4096 proxy_protocol;
        location / { default_type text/plain; return 200 "$BODY\n"; }
    }
}
CFG
pid=$(spawn backend-http "$LOAD_CPU" "$BENCH_STATE/backend-http.log" \
  nginx -p "$BENCH_STATE/backend-http" -e "$BENCH_STATE/backend-http.log" -c "$BENCH_STATE/backend-http.conf" -g 'daemon off;')
await_listen "$P_HTTP" "$pid" || die "HTTP backend did not start (see $BENCH_STATE/backend-http.log)"
pid=$(spawn backend-echo "$LOAD_CPU" "$BENCH_STATE/backend-echo.log" python3 "$TOOL" echo "$P_ECHO" "$BENCH_LIFETIME")
await_listen "$P_ECHO" "$pid" || die "echo backend did not start"

# ---------------------------------------------------------------- proxies
for t in "${TARGETS[@]:1}"; do
  "${ADAPTER[$t]}" prepare || die "$t: prepare failed"
done

# proxy_up TARGET BACKEND_PORT -> DEST (the port load goes to), MPID (measured PID, "" for direct)
proxy_up() {
  DEST=$2 MPID=""
  [ "$1" = direct ] && return 0
  CUR=${ADAPTER[$1]}
  MPID=$("$CUR" start "$P_PROXY" "127.0.0.1:$2" | tail -n1)
  if ! [[ $MPID =~ ^[0-9]+$ ]] || ! kill -0 "$MPID" 2>/dev/null; then
    note "$1: start failed"; proxy_down; return 1
  fi
  taskset -a -p -c "$PROXY_CPU" "$MPID" >/dev/null   # every thread, also ones made before start returned
  DEST=$P_PROXY
}
proxy_down() {
  [ -n "$CUR" ] || return 0
  "$CUR" stop; CUR=""
  await_free "$P_PROXY"; await_free "$P_ADMIN" 5
}

# ---------------------------------------------------------------- measuring
put() { printf '%s\t%s\t%s\n' "$T" "$1" "$2" >>"$RUN_DIR/results.tsv"; }
proc_cpu() { if [ -n "$MPID" ]; then python3 "$TOOL" cpu "$MPID"; else echo 0; fi; }
# window_open; LOAD...; window_close WORKLOAD -> W_CPU (proxy CPU s), W_SECS; records the
# proxy's CPU % and each core's busy % over the window
window_open() { W0_CPU=$(proc_cpu); W0_CORES=$(python3 "$TOOL" cores "$PROXY_CPU" "$LOAD_CPU"); W0_NS=$(date +%s%N); }
window_close() {
  local ns=$(( $(date +%s%N) - W0_NS )) c1 a b c d e f g h
  c1=$(python3 "$TOOL" cores "$PROXY_CPU" "$LOAD_CPU")
  W_CPU=$(python3 -c "print(f'{$(proc_cpu) - $W0_CPU:.3f}')")
  W_SECS=$(python3 -c "print(f'{$ns / 1e9:.3f}')")
  read -r a b c d <<<"$W0_CORES"; read -r e f g h <<<"$c1"
  put "$1_cores" "$(( (e - a) * 100 / (f - b > 0 ? f - b : 1) ))/$(( (g - c) * 100 / (h - d > 0 ? h - d : 1) ))"
  [ -n "$MPID" ] && put "$1_pct" "$(python3 -c "print(round($W_CPU * 100 / $W_SECS))")"
}
per_unit() { python3 -c "import sys; a, b, k = map(float, sys.argv[1:]); print(f'{a * k / b:.2f}' if b > 0 else 'fail')" "$@"; }

wl_bulk() {  # STREAMS
  local n=$1 raw="$RUN_DIR/raw/$T-bulk$1.json" pid gbps bytes
  pid=$(spawn iperf-server "$LOAD_CPU" "$RUN_DIR/raw/$T-iperf3-server.log" iperf3 -s -p "$P_IPERF")
  await_listen "$P_IPERF" "$pid" || { put "bulk${n}_gbps" fail; reap iperf-server; return; }
  if proxy_up "$T" "$P_IPERF"; then
    timeout 30 iperf3 -c 127.0.0.1 -p "$DEST" -t 1 -P "$n" >/dev/null 2>&1   # warm-up
    window_open
    timeout $((T_BULK + 30)) iperf3 -c 127.0.0.1 -p "$DEST" -t "$T_BULK" -O 1 -P "$n" -J >"$raw" 2>&1
    window_close "bulk$n"
    read -r gbps bytes < <(python3 "$TOOL" iperf "$raw")
    put "bulk${n}_gbps" "$gbps"
    # every byte sent in the window, the omitted first second included, as that CPU is counted too
    [ -n "$MPID" ] && put "bulk${n}_cpu" "$(per_unit "$W_CPU" "$bytes" 1e12)"   # CPU ms per 10^9 bytes
    proxy_down
  else
    put "bulk${n}_gbps" fail
  fi
  reap iperf-server
  await_free "$P_IPERF"
}

wl_http() {  # cc|ka
  local m=$1 raw="$RUN_DIR/raw/$T-wrk-$1.txt" hdr=() kv requests="" rps="" p50_us="" p99_us="" errors=0 non2xx=0
  [ "$m" = cc ] && hdr=(-H "Connection: close")
  proxy_up "$T" "$P_HTTP" || { put "${m}_rps" fail; return; }
  timeout $((T_WARM + 30)) wrk -t1 -c"$WRK_CONNS" -d"${T_WARM}s" "${hdr[@]}" "http://127.0.0.1:$DEST/" >/dev/null 2>&1
  window_open
  timeout $((T_WRK + 30)) wrk -t1 -c"$WRK_CONNS" -d"${T_WRK}s" --timeout 5s --latency "${hdr[@]}" \
    "http://127.0.0.1:$DEST/" >"$raw" 2>&1
  window_close "$m"
  for kv in $(python3 "$TOOL" wrk "$raw"); do
    case ${kv%%=*} in requests|rps|p50_us|p99_us|errors|non2xx) printf -v "${kv%%=*}" '%s' "${kv#*=}" ;; esac
  done
  put "${m}_rps" "${rps:-fail}"; put "${m}_p50" "${p50_us:-fail}"; put "${m}_p99" "${p99_us:-fail}"
  [ -n "$MPID" ] && put "${m}_cpu" "$(per_unit "$W_CPU" "${requests:-0}" 1e6)"   # CPU µs per request
  [ "$errors" = 0 ] && [ "$non2xx" = 0 ] || put "${m}_errors" "wrk: $errors socket errors, $non2xx non-2xx of ${requests:-?}"
  proxy_down
}

wl_mem() {
  local ready="$BENCH_STATE/holder.ready" pid i ok=0 failed=0 anon0 pss0 rss0 anon1 pss1 rss1 procs
  [ "$T" = direct ] && return 0
  proxy_up "$T" "$P_ECHO" || { put mem fail; return; }
  # warm-up: 200 connections that echo once and close
  rm -f "$ready"; timeout 120 python3 "$TOOL" hold 127.0.0.1 "$DEST" 200 "$ready" 0 >/dev/null 2>&1
  sleep 1
  read -r anon0 pss0 rss0 procs < <(python3 "$TOOL" mem "$MPID")
  rm -f "$ready"
  pid=$(spawn holder "$LOAD_CPU" "$RUN_DIR/raw/$T-holder.log" python3 "$TOOL" hold 127.0.0.1 "$DEST" "$CONNS" "$ready" 900)
  for ((i = 0; i < 1200 + CONNS / 5; i++)); do   # bounded: 2 min + 1 s per 500 connections
    [ -f "$ready" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  sleep 2   # let the proxy settle (lazy allocations, GC)
  read -r anon1 pss1 rss1 procs < <(python3 "$TOOL" mem "$MPID")
  [ -f "$ready" ] && read -r ok failed <"$ready"
  reap holder
  echo "held $ok (failed $failed) of $CONNS; anonymous+shmem PSS kB $anon0 -> $anon1; PSS kB $pss0 -> $pss1;" \
    "RSS kB $rss0 -> $rss1; processes $procs" >"$RUN_DIR/raw/$T-mem.txt"
  if [ "$ok" -gt 0 ]; then put mem "$(( (anon1 - anon0) * 1024 / ok ))"; else put mem fail; fi
  [ "$failed" = 0 ] || put mem_errors "$failed of $CONNS idle connections failed"
  proxy_down
}

# ---------------------------------------------------------------- run
{
  echo "date $(date -Is); commit $(repo_commit); kernel $(uname -r); $(lscpu | sed -n 's/^Model name: *//p') x$(nproc --all)"
  echo "proxy on CPU $PROXY_CPU, load and backends on CPU $LOAD_CPU; runs $RUNS$([ $QUICK = 1 ] && echo ' (quick)')"
  echo "bulk: iperf3 ${T_BULK}s (first second omitted from Gbit/s); wrk -t1 -c$WRK_CONNS ${T_WRK}s after a ${T_WARM}s warm-up; idle: $CONNS connections"
  for t in "${TARGETS[@]:1}"; do echo "$t: $("${ADAPTER[$t]}" version)"; done
  echo "$(iperf3 --version | head -n1 | cut -d' ' -f1-2); $(wrk -v 2>&1 | head -n1 | cut -d' ' -f1-2); backend $(nginx -v 2>&1 | sed 's/.*: //') http, 100-byte body"
} >"$OUT/env.txt"

for ((run = 1; run <= RUNS; run++)); do
  RUN_DIR="$OUT/run-$run"
  mkdir -p "$RUN_DIR/raw"; : >"$RUN_DIR/results.tsv"
  # rotate the order each run, so slow drift of the machine does not always favour one target
  order=("${TARGETS[@]:$(( (run - 1) % ${#TARGETS[@]} ))}" "${TARGETS[@]:0:$(( (run - 1) % ${#TARGETS[@]} ))}")
  for T in "${order[@]}"; do
    note "run $run/$RUNS: $T"
    for w in $WORKLOADS; do
      case $w in
        bulk) wl_bulk 1; wl_bulk 8 ;;
        cc|ka) wl_http "$w" ;;
        mem) wl_mem ;;
      esac
    done
  done
done

COMMIT=$(repo_commit)   # the commit FProxy was built from, when that is not the work tree
[ -n "${FPROXY_BUILD_FROM:-}" ] && COMMIT=$(git -C "$BENCH_DIR" rev-parse --short "$FPROXY_BUILD_FROM^{commit}" 2>/dev/null || echo "$COMMIT")
python3 "$BENCH_LIB/report.py" --out "$OUT" --runs "$RUNS" --reference "$REF" --targets "${TARGETS[*]}" \
  --commit "$COMMIT" --mode "$([ $QUICK = 1 ] && echo quick || echo full)" --history "$HISTORY" \
  | tee "$OUT/report.md"
note "report: $OUT/report.md (each run's table: $OUT/run-*/table.md; raw output: $OUT/run-*/raw)"
