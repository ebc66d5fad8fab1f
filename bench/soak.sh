#!/usr/bin/env bash
# soak.sh: FProxy under mixed load for a bounded time, its config rewritten every 10 s and its
# backends dying and coming back; the proxy is sampled every minute, and the run fails when
# something grows or a client fails outside the planned outages.
#
# Usage: bench/soak.sh [--minutes N] [--sample-seconds S] [--warmup-minutes W] [--out DIR]
#                      [--published DIR]
#
#   --minutes N         how long the load runs (default 20); the whole run takes about a minute
#                       more (start, 10 s of warm-up load, the report), plus the build
#   --sample-seconds S  time between samples (default 60); a trial run: --minutes 3 --sample-seconds 15
#   --warmup-minutes W  samples before minute W are left out of the growth check (default: the
#                       first half of the run): a leak keeps growing in the second half, while
#                       what merely settles (pools, allocator arenas, paths first run at the first
#                       outage of each backend) has stopped there
#   --out DIR           where everything goes (default ${TMPDIR:-/tmp}/fproxy-soak-DATE)
#   --published DIR     run this published FProxy.Host (e.g. DIR/state/fproxy-publish of an earlier
#                       run) instead of publishing the work tree (bench/proxies/fproxy.sh prepare;
#                       FPROXY_BUILD_FROM=HEAD builds a clean export of a commit instead)
#
# What runs (loopback only, ports $SOAK_PORT_BASE (23600) .. +14):
#   - FProxy.Host with its own config file (DIR/config/fproxy.json), the admin endpoint on
#     127.0.0.1:BASE+9 and tiered compilation off (see below, at its start); apps "short" (BASE), "streams" (BASE+1), "bulk" (BASE+2), each with two
#     or three of the four echo backends e1..e4 (BASE+11..14) as targets.
#   - bench/lib/soakload.py load: 40 new connections a second, 16 keep-alive streams doing round
#     trips, 2 bulk streams of 32 MiB at 8 MiB/s each, every echo checked; failures are logged with
#     their time (DIR/failures.tsv).
#   - Every 10 s the config is rewritten (atomically, by rename), alternating between two versions:
#     strategies, weights, timeouts and a health-check interval change, a target is added to and
#     removed from "short", and an app "spare" with port BASE+3 comes and goes. Before each write the
#     previous one is checked: the admin endpoint's config version went up by one, "spare" is there
#     or not as written, and its port echoes when it is (DIR/checks.tsv).
#   - Planned outages: one every 3.5 minutes (at least one), spread over the run, each killing a
#     backend (SIGKILL, e1, e2, e3 in turn) for 30 s and starting it again (DIR/outages.tsv).
#
# Samples (DIR/soak.csv, one row each): the GC heap of the FProxy process (what a full collection
# leaves, through `dotnet-gcdump collect`, which induces one; the tool is installed into DIR when
# missing, and the column left empty if it cannot be), then its RSS, threads and descriptors
# (/proc), open connections and connections per second (/metrics), the clients' failures planned
# and unplanned, the proxy's fproxy_connections_failed_total, config rewrites written and applied.
# The first and last heap dumps are kept (DIR/heap-first.gcdump, heap-last.gcdump).
#
# Verdict (bench/lib/soakstats.py; exit status 1 when it fails):
#   - growth: after the warm-up, a least-squares line through each series, projected to one hour,
#     must stay within an allowance: RSS and GC heap 10% of their mean (at least 8 MiB and 4 MiB),
#     descriptors 20, threads 10 (judged when at least 10 minutes follow the warm-up, so for the
#     default 20 minutes and longer; shorter runs show the trend only);
#   - failures: a client failure is planned when it happens while a backend is down (up to 10 s
#     after it is back) and is of a kind an outage causes (reset, early close, timeout); any other,
#     a refused or timed-out connect to the proxy, or an echo that differs, fails the run, as do
#     failures the proxy counts in a sample interval without an outage;
#   - every config rewrite applied.
# Output: the markdown table and verdict (DIR/summary.md, also printed) and a plot (DIR/soak.png,
# with gnuplot, installed with apt-get when missing and root; without it the CSV is still written).
#
# Bounded: every wait has a deadline, every process started runs under `timeout`, and a trap ends
# exactly those processes (recorded PIDs, checked by start time) on exit, failure or Ctrl-C.
# Environment: SOAK_PORT_BASE (23600); SOAK_OUTAGE_EVERY (210) and SOAK_OUTAGE_SECONDS (30), the
# time between outages and their length (frequent outages find a leak per outage sooner); the
# load's SHORT_RATE, STREAMS, BULK, BULK_MB, BULK_RATE (bench/lib/soakload.py); the build's
# FPROXY_BUILD_FROM, FPROXY_PUBLISH_ARGS (bench/proxies/fproxy.sh). DOTNET_* variables reach FProxy.
set -euo pipefail
export LC_ALL=C   # a '.' in $EPOCHREALTIME and in numbers
. "$(dirname "$0")/lib/common.sh"
LOAD="$BENCH_LIB/soakload.py" STATS="$BENCH_LIB/soakstats.py"

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit "${1:-2}"; }
MINUTES=20 SAMPLE_S=60 WARMUP="" OUT="" PUBLISHED=""
while [ $# -gt 0 ]; do
  case $1 in
    --minutes) [ $# -ge 2 ] || die "--minutes needs a value"; MINUTES=$2; shift 2 ;;
    --sample-seconds) [ $# -ge 2 ] || die "--sample-seconds needs a value"; SAMPLE_S=$2; shift 2 ;;
    --warmup-minutes) [ $# -ge 2 ] || die "--warmup-minutes needs a value"; WARMUP=$2; shift 2 ;;
    --out) [ $# -ge 2 ] || die "--out needs a value"; OUT=$2; shift 2 ;;
    --published) [ $# -ge 2 ] || die "--published needs a value"; PUBLISHED=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "unknown option: $1" >&2; usage ;;
  esac
done
[[ $MINUTES =~ ^[1-9][0-9]{0,3}$ ]] || die "--minutes takes 1..9999"
[[ $SAMPLE_S =~ ^[1-9][0-9]{0,3}$ ]] && [ "$SAMPLE_S" -ge 5 ] || die "--sample-seconds takes 5..9999"
[ $(( MINUTES * 60 % SAMPLE_S )) -eq 0 ] || die "--sample-seconds must divide the run ($MINUTES min) evenly"
[ -n "$WARMUP" ] || WARMUP=$(python3 -c "print($MINUTES / 2)")
[[ $WARMUP =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--warmup-minutes takes a number of minutes"

OUT=${OUT:-${TMPDIR:-/tmp}/fproxy-soak-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT/config" "$OUT/state"
OUT=$(cd "$OUT" && pwd)
export BENCH_STATE="$OUT/state"
export BENCH_LIFETIME=$(( MINUTES * 60 + 900 ))   # bound on everything started, should this script be killed
RUN_S=$(( MINUTES * 60 ))
WARM_S=10                                          # load before minute 0
REWRITE_MS=10000
OUT_EVERY=${SOAK_OUTAGE_EVERY:-210}                # s between planned outages
OUT_LEN=${SOAK_OUTAGE_SECONDS:-$(( RUN_S >= 180 ? 30 : RUN_S / 6 ))}   # s a backend stays down
[[ $OUT_EVERY =~ ^[1-9][0-9]*$ ]] && [[ $OUT_LEN =~ ^[1-9][0-9]*$ ]] || die "SOAK_OUTAGE_EVERY and SOAK_OUTAGE_SECONDS take seconds"
[ $(( OUT_LEN + 15 )) -le "$OUT_EVERY" ] || die "an outage ($OUT_LEN s) needs 15 s less than the time between outages ($OUT_EVERY s)"
CFG="$OUT/config/fproxy.json"

BASE=${SOAK_PORT_BASE:-23600}
P_SHORT=$BASE P_STREAM=$((BASE + 1)) P_BULK=$((BASE + 2)) P_SPARE=$((BASE + 3)) P_ADMIN=$((BASE + 9))
declare -A BPORT=([e1]=$((BASE + 11)) [e2]=$((BASE + 12)) [e3]=$((BASE + 13)) [e4]=$((BASE + 14)))
ADMIN="http://127.0.0.1:$P_ADMIN"
read -r EPHEMERAL_LOW _ </proc/sys/net/ipv4/ip_local_port_range
[ $((BASE + 14)) -lt "$EPHEMERAL_LOW" ] || die "SOAK_PORT_BASE $BASE reaches the ephemeral range ($EPHEMERAL_LOW..)"

need_packages python3:python3 taskset:util-linux ss:iproute2 curl:curl
raise_nofile
for p in $P_SHORT $P_STREAM $P_BULK $P_SPARE $P_ADMIN "${BPORT[@]}"; do listening "$p" && die "port $p is in use"; done
CPUS="0-$(( $(nproc) - 1 ))"   # nothing pinned: the soak measures growth, not CPU time
note "soak: $MINUTES min, a sample every $SAMPLE_S s; output in $OUT"

# ---------------------------------------------------------------- cleanup
cleanup() {
  local rc=$? n
  trap - EXIT INT TERM
  for n in load e1 e2 e3 e4; do reap "$n" 2; done
  reap fproxy 15
  note "output in $OUT"
  exit "$rc"
}
trap cleanup EXIT
trap 'note interrupted; exit 130' INT TERM

ms_now() { local t=${EPOCHREALTIME/./}; echo $(( t / 1000 )); }

# ---------------------------------------------------------------- FProxy and its tools
if [ -n "$PUBLISHED" ]; then
  PUBLISHED=$(cd "$PUBLISHED" && pwd) || die "--published: no directory $PUBLISHED"
else
  "$BENCH_DIR/proxies/fproxy.sh" prepare || die "FProxy.Host could not be published"
  PUBLISHED="$BENCH_STATE/fproxy-publish"
  note "published FProxy.Host in $PUBLISHED (--published $PUBLISHED reuses it)"
fi
if [ -x "$PUBLISHED/FProxy.Host" ]; then FPROXY_EXE=("$PUBLISHED/FProxy.Host")
elif [ -f "$PUBLISHED/FProxy.Host.dll" ]; then FPROXY_EXE=(dotnet "$PUBLISHED/FProxy.Host.dll")
else die "no FProxy.Host in $PUBLISHED"; fi

# dotnet-gcdump: the host's /metrics carries only the FProxy meter, not the runtime's
GCDUMP=$(command -v dotnet-gcdump || true)
[ -z "$GCDUMP" ] && [ -x "$HOME/.dotnet/tools/dotnet-gcdump" ] && GCDUMP="$HOME/.dotnet/tools/dotnet-gcdump"
if [ -z "$GCDUMP" ] && command -v dotnet >/dev/null; then
  note "installing dotnet-gcdump into $BENCH_STATE/tools"
  if timeout 300 dotnet tool install --tool-path "$BENCH_STATE/tools" dotnet-gcdump >"$BENCH_STATE/tools.log" 2>&1; then
    GCDUMP="$BENCH_STATE/tools/dotnet-gcdump"
  else
    note "dotnet-gcdump could not be installed (see $BENCH_STATE/tools.log): no GC heap column"
  fi
fi
PLOT=1
if ! command -v gnuplot >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    note "installing gnuplot-nox for the plot"
    { timeout 300 apt-get update -q && DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -q \
        --no-install-recommends gnuplot-nox; } >"$BENCH_STATE/apt.log" 2>&1 || true
  fi
  command -v gnuplot >/dev/null || { PLOT=0; note "no gnuplot (apt-get install gnuplot-nox): CSV and table only"; }
fi

# ---------------------------------------------------------------- config
# write_config GENERATION: even and odd generations differ in everything a reload may change
# without rebinding, plus one target and one app ("spare", its own port)
write_config() {
  local odd=$(( $1 % 2 )) e
  for e in e1 e2 e3 e4; do local "$e=\"127.0.0.1:${BPORT[$e]}\""; done
  {
    printf '// generation %d, written by bench/soak.sh\n{\n  "Apps": [\n' "$1"
    printf '    { "Name": "short", "Bind": "127.0.0.1", "Ports": [%d], "Targets": [%s, %s%s],\n' \
      "$P_SHORT" "$e1" "$e2" "$([ $odd = 1 ] && echo ", $e4")"
    printf '      "Strategy": "%s", "ConnectTimeout": "%s" },\n' \
      "$([ $odd = 1 ] && echo LeastConnections || echo RoundRobin)" "$([ $odd = 1 ] && echo 3s || echo 2s)"
    printf '    { "Name": "streams", "Bind": "127.0.0.1", "Ports": [%d], "Strategy": "WeightedRoundRobin",\n' "$P_STREAM"
    printf '      "Targets": [{ "Address": %s, "Weight": %d }, { "Address": %s, "Weight": %d }],\n' \
      "$e2" $(( odd ? 3 : 1 )) "$e3" $(( odd ? 1 : 3 ))
    printf '      "HealthCheck": { "Interval": "%s" } },\n' "$([ $odd = 1 ] && echo 3s || echo 2s)"
    printf '    { "Name": "bulk", "Bind": "127.0.0.1", "Ports": [%d], "Targets": [%s, %s],\n' "$P_BULK" "$e3" "$e1"
    printf '      "Strategy": "%s", "IdleTimeout": "%s" }' \
      "$([ $odd = 1 ] && echo PowerOfTwoChoices || echo RoundRobin)" "$([ $odd = 1 ] && echo 10m || echo 5m)"
    [ $odd = 1 ] && printf ',\n    { "Name": "spare", "Bind": "127.0.0.1", "Ports": [%d], "Targets": [%s, %s] }' \
      "$P_SPARE" "$e4" "$e2"
    printf '\n  ]\n}\n'
  } >"$CFG.tmp"
  mv -f "$CFG.tmp" "$CFG"   # a rename: the daemon never reads half a file
}

# check_applied GENERATION: is that generation in force, and does "spare" serve when it should?
check_applied() {
  local want_spare=$(( $1 % 2 )) version spare result=ok detail=""
  read -r version spare < <(curl -sf --max-time 5 "$ADMIN/apps" | python3 -c \
    'import json, sys; d = json.load(sys.stdin); print(d["version"], int(any(a["name"] == "spare" for a in d["apps"])))' \
    2>/dev/null || echo "? ?")
  if [ "$version" != $(( $1 + 1 )) ] || [ "$spare" != "$want_spare" ]; then
    result=failed detail="version $version (want $(( $1 + 1 ))), spare $spare (want $want_spare)"
  elif [ "$want_spare" = 1 ]; then
    read -r ok _ < <(timeout 20 python3 "$BENCH_LIB/benchtool.py" dial 127.0.0.1 "$P_SPARE" 1 64 2>/dev/null || echo "0 1")
    [ "$ok" = 1 ] || result=failed detail="port $P_SPARE did not echo"
  fi
  printf '%s\t%d\t%s\t%s\n' "$EPOCHREALTIME" "$1" "$result" "$detail" >>"$OUT/checks.tsv"
  [ "$result" = ok ] || note "config generation $1 not in force as written: $detail"
}

# ---------------------------------------------------------------- processes
start_backend() {  # NAME
  local pid
  pid=$(spawn "$1" "$CPUS" "$BENCH_STATE/$1.log" python3 "$LOAD" echo "${BPORT[$1]}" "$BENCH_LIFETIME")
  await_listen "${BPORT[$1]}" "$pid" 10 || die "backend $1 did not start (see $BENCH_STATE/$1.log)"
}

crash() {  # NAME: SIGKILL, as a crashing backend would die; its sockets are closed by the kernel
  local pid
  pid=$(owned "$1") || die "backend $1 is not running"
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid"
  rm -f "$BENCH_STATE/$1.pid"
  await_free "${BPORT[$1]}" 5 || die "backend $1 still listens after SIGKILL"
}

for b in e1 e2 e3 e4; do start_backend "$b"; done
write_config 0
# Tiered compilation off (unless DOTNET_TieredCompilation says otherwise): code is compiled once,
# optimised, at its first call. With tiering, code run once per rewrite, per outage or per sample
# is compiled again when it reaches its 30th call, minutes into the run, and each such step left
# RSS higher (measured, outages every 45 s: +3 MiB at minute 5, flat after; the default schedule:
# steps until minute 18). Without it RSS was flat from minute 1.5 through 16 outages: the JIT's
# warm-up ends at once and cannot pass for a leak.
FPID=$(spawn fproxy "$CPUS" "$BENCH_STATE/fproxy.log" env FPROXY_CONFIG_PATH="$CFG" FPROXY_ADMIN_URL="$ADMIN" \
  FPROXY_LOG_LEVEL=information DOTNET_TieredCompilation="${DOTNET_TieredCompilation:-0}" "${FPROXY_EXE[@]}")
for ((i = 0; i < 300; i++)); do
  curl -sf --max-time 2 -o /dev/null "$ADMIN/readyz" && break
  kill -0 "$FPID" 2>/dev/null || { tail -n 20 "$BENCH_STATE/fproxy.log" >&2; die "FProxy exited at start"; }
  sleep 0.1
done
[ "$i" -lt 300 ] || die "FProxy not ready after 30 s (see $BENCH_STATE/fproxy.log)"
note "FProxy $FPID ready; $(cat "$PUBLISHED/.published" 2>/dev/null || echo "from $PUBLISHED")"

LPID=$(spawn load "$CPUS" "$BENCH_STATE/load.log" python3 "$LOAD" load "$OUT" $(( WARM_S + RUN_S + 60 )) \
  "$P_SHORT" "$P_STREAM" "$P_BULK")
sleep "$WARM_S"

# ---------------------------------------------------------------- outages
# one every $OUT_EVERY s (3.5 minutes), at least one, centred in equal slices of the run
N_OUT=$(( RUN_S / OUT_EVERY )); [ "$N_OUT" -ge 1 ] || N_OUT=1
OUT_AT=() OUT_NAME=()
for ((k = 0; k < N_OUT; k++)); do
  OUT_AT+=($(( (2 * k + 1) * RUN_S * 1000 / (2 * N_OUT) - OUT_LEN * 500 )))
  OUT_NAME+=("e$(( k % 3 + 1 ))")
done

outage_begin() {  # NAME
  printf '%s\t%s\n' "$1" "$EPOCHREALTIME" >"$OUT/outage.now"   # before the kill: no failure precedes it
  crash "$1"
  note "outage: backend $1 killed for $OUT_LEN s"
}
outage_end() {  # NAME
  local name start
  start_backend "$1"
  read -r name start <"$OUT/outage.now"
  printf '%s\t%s\t%s\n' "$name" "$start" "$EPOCHREALTIME" >>"$OUT/outages.tsv"
  rm -f "$OUT/outage.now"
  note "outage: backend $1 back"
}

# ---------------------------------------------------------------- samples
# The heap dump comes first: it makes the runtime collect (a full, blocking GC), so the heap it
# reports is what is still referenced, and the RSS read after it does not depend on how full the
# youngest generation happens to be (with this host's GC settings and this load, the first
# collection would otherwise come only after about 8 minutes, RSS climbing until then).
take_sample() {
  local heap=""
  if [ -n "$GCDUMP" ]; then
    rm -f "$BENCH_STATE/heap.gcdump" "$BENCH_STATE/heap.txt"
    if timeout 60 "$GCDUMP" collect -p "$FPID" -o "$BENCH_STATE/heap.gcdump" >>"$BENCH_STATE/gcdump.log" 2>&1 &&
       timeout 60 "$GCDUMP" report "$BENCH_STATE/heap.gcdump" >"$BENCH_STATE/heap.txt" 2>>"$BENCH_STATE/gcdump.log"; then
      heap="$BENCH_STATE/heap.txt"
      # the first and the last dump are kept: `dotnet-gcdump report` of each shows what grew
      [ -f "$OUT/heap-first.gcdump" ] || cp "$BENCH_STATE/heap.gcdump" "$OUT/heap-first.gcdump"
    fi
  fi
  timeout 30 python3 "$STATS" sample "$OUT" "$FPID" "$ADMIN" "$START_EPOCH" "$heap" >&2 || note "sample failed"
}

# ---------------------------------------------------------------- run
T0=$(ms_now)
START_EPOCH=$(printf '%d.%03d' $(( T0 / 1000 )) $(( T0 % 1000 )))
END=$(( T0 + RUN_S * 1000 ))
SAMPLES=$(( RUN_S / SAMPLE_S ))
taken=0 next_sample=$T0 gen=0 next_rewrite=$(( T0 + REWRITE_MS )) o=0 down=""
while (( taken <= SAMPLES )); do
  now=$(ms_now)
  (( now < END + 120000 )) || die "the run overran its end by 2 minutes"
  kill -0 "$FPID" 2>/dev/null || { tail -n 20 "$BENCH_STATE/fproxy.log" >&2; die "FProxy exited during the run"; }
  kill -0 "$LPID" 2>/dev/null || { tail -n 20 "$BENCH_STATE/load.log" >&2; die "the load generator exited early"; }
  for b in e1 e2 e3 e4; do
    [ "$b" = "$down" ] || owned "$b" >/dev/null || die "backend $b died outside a planned outage (see $BENCH_STATE/$b.log)"
  done

  if (( o < N_OUT )); then
    if [ -z "$down" ] && (( now >= T0 + OUT_AT[o] )); then
      down=${OUT_NAME[o]}; outage_begin "$down"
    elif [ -n "$down" ] && (( now >= T0 + OUT_AT[o] + OUT_LEN * 1000 )); then
      outage_end "$down"; down=""; o=$(( o + 1 ))
    fi
  fi
  if (( next_rewrite < END && now >= next_rewrite )); then
    check_applied "$gen"
    gen=$(( gen + 1 ))
    write_config "$gen"
    printf '%s\t%d\n' "$EPOCHREALTIME" "$gen" >>"$OUT/rewrites.tsv"
    next_rewrite=$(( next_rewrite + REWRITE_MS ))
  fi
  if (( now >= next_sample )); then
    take_sample
    taken=$(( taken + 1 )) next_sample=$(( next_sample + SAMPLE_S * 1000 ))
  fi

  wake=$next_sample
  (( next_rewrite < END && next_rewrite < wake )) && wake=$next_rewrite
  if (( o < N_OUT )); then
    t=$(( T0 + OUT_AT[o] ))
    [ -n "$down" ] && t=$(( t + OUT_LEN * 1000 ))
    (( t < wake )) && wake=$t
  fi
  now=$(ms_now)
  (( wake > now )) && sleep "$(printf '%d.%03d' $(( (wake - now) / 1000 )) $(( (wake - now) % 1000 )))"
done
check_applied "$gen"
reap load 5
[ -f "$BENCH_STATE/heap.gcdump" ] && cp "$BENCH_STATE/heap.gcdump" "$OUT/heap-last.gcdump"

# ---------------------------------------------------------------- report
rc=0
python3 "$STATS" verdict "$OUT" "$WARMUP" || rc=$?
if [ "$PLOT" = 1 ]; then
  {
    cat <<GP
set terminal pngcairo size 900,820 font "sans,9"
set output "$OUT/soak.png"
set datafile separator comma
set datafile columnheaders
set key inside bottom right opaque box
set grid
set xrange [0:$MINUTES]
set lmargin 10
set rmargin 10
set ytics nomirror
set y2tics
set multiplot layout 3,1 title "FProxy soak, $MINUTES min: config rewritten every 10 s, grey = a backend down"
GP
    [ -f "$OUT/outages.tsv" ] && python3 - "$OUT/outages.tsv" "$START_EPOCH" <<'PY'
import sys
with open(sys.argv[1]) as f:
    for i, line in enumerate(f, 1):
        _, s, e = line.split()
        x0, x1 = (float(s) - float(sys.argv[2])) / 60, (float(e) - float(sys.argv[2])) / 60
        print(f'set object {i} rect from {x0:.3f}, graph 0 to {x1:.3f}, graph 1 fc rgb "#e4e4e4" fs solid noborder behind')
PY
    cat <<GP
set arrow from $WARMUP, graph 0 to $WARMUP, graph 1 nohead dashtype 2 linecolor rgb "#808080"
set label 1 " growth judged from here" at $WARMUP, graph 0.5 left textcolor rgb "#606060"
set ylabel "RSS (MiB)"
set y2label "GC heap (MiB)"
set yrange [0:*]
set y2range [0:*]
plot "$OUT/soak.csv" using "minute":"rss_mib" with linespoints pt 7 ps 0.5 title "RSS", \
     "" using "minute":"gc_heap_mib" axes x1y2 with linespoints pt 7 ps 0.5 title "GC heap (after a full GC)"
unset label 1
set ylabel "descriptors"
set y2label "threads"
plot "$OUT/soak.csv" using "minute":"fds" with linespoints pt 7 ps 0.5 title "descriptors", \
     "" using "minute":"threads" axes x1y2 with linespoints pt 7 ps 0.5 title "threads"
set xlabel "minute"
set key center left
set ylabel "connections/s"
set y2label "failures (cumulative)"
plot "$OUT/soak.csv" using "minute":"conn_per_s" with linespoints pt 7 ps 0.5 title "new connections/s", \
     "" using "minute":"planned" axes x1y2 with steps lw 2 title "client failures, planned", \
     "" using "minute":"unplanned" axes x1y2 with steps lw 2 title "client failures, unplanned"
unset multiplot
GP
  } >"$BENCH_STATE/soak.gp"
  timeout 60 gnuplot "$BENCH_STATE/soak.gp" 2>"$BENCH_STATE/gnuplot.log" && note "plot: $OUT/soak.png" ||
    note "gnuplot failed (see $BENCH_STATE/gnuplot.log)"
fi
note "table and verdict: $OUT/summary.md; samples: $OUT/soak.csv"
exit "$rc"
