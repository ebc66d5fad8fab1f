# shellcheck shell=bash
# Shared bash helpers for bench/*.sh and bench/proxies/*.sh (sourced, not run).
#
# Process ownership: every long-running process a script starts goes through
# `spawn`, which records "PID START_TIME" in $BENCH_STATE/NAME.pid. `reap NAME`
# signals that PID's process group only while /proc still shows the same start
# time, so a recycled PID is never signalled and nothing we did not start is
# ever ended.

BENCH_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_DIR=$(dirname "$BENCH_LIB")
BENCH_STATE=${BENCH_STATE:-${TMPDIR:-/tmp}/fproxy-bench-state.$UID}
PROXY_CPU=${PROXY_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}

note() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { note "error: $*"; exit 1; }

# listening PORT -> true if a TCP socket listens on PORT (any address)
listening() { [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; }

# await_listen PORT [PID] [SECONDS=20] -> wait until PORT listens; fail early if PID died
await_listen() {
  local port=$1 pid=${2:-} secs=${3:-20} i
  for ((i = 0; i < secs * 10; i++)); do
    listening "$port" && return 0
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      note "process $pid exited before port $port listened"
      return 1
    fi
    sleep 0.1
  done
  note "port $port not listening after ${secs}s"
  return 1
}

# await_free PORT [SECONDS=10] -> wait until nothing listens on PORT
await_free() {
  local port=$1 secs=${2:-10} i
  for ((i = 0; i < secs * 10; i++)); do
    listening "$port" || return 0
    sleep 0.1
  done
  note "port $port still listening after ${secs}s"
  return 1
}

# start_time PID -> field 22 of /proc/PID/stat (clock ticks since boot), empty if gone
start_time() {
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  s=${s##*) }   # the command name may hold spaces or parentheses: cut after the last ") "
  # shellcheck disable=SC2086 # split into fields on purpose
  set -- $s
  echo "${20}"
}

# spawn NAME CPU LOG CMD... -> run CMD pinned to CPU, in a session of its own
# (so its children can be ended as one group), under `timeout $BENCH_LIFETIME`
# (so it ends even if the script that started it was killed with SIGKILL),
# stdin from /dev/null, output to LOG. Records the session leader (timeout) for
# reap and prints CMD's own PID. Run it from a shell without job control: then
# setsid and taskset exec, and $! is timeout's PID.
spawn() {
  local name=$1 cpu=$2 log=$3 pid child i; shift 3
  mkdir -p "$BENCH_STATE"
  setsid taskset -c "$cpu" timeout -k 5 "${BENCH_LIFETIME:-21600}" "$@" </dev/null >>"$log" 2>&1 &
  pid=$!
  echo "$pid $(start_time "$pid")" >"$BENCH_STATE/$name.pid"
  for ((i = 0; i < 100; i++)); do
    child=$(pgrep -P "$pid" | sed -n 1p)   # sed reads to the end: no SIGPIPE for pipefail to report
    [ -n "$child" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.02
  done
  echo "${child:-$pid}"
}

# owned NAME -> print the recorded PID if that process is still the one we started
owned() {
  local f="$BENCH_STATE/$1.pid" pid st
  [ -f "$f" ] || return 1
  read -r pid st <"$f"
  [ -n "$pid" ] && [ -n "$st" ] && [ "$(start_time "$pid")" = "$st" ] || return 1
  echo "$pid"
}

# reap NAME [SECONDS=5] -> TERM the recorded process group, KILL it after SECONDS
reap() {
  local name=$1 secs=${2:-5} pid i
  if pid=$(owned "$name"); then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < secs * 10; i++)); do
      [ "$(start_time "$pid")" = "" ] && break
      # a zombie child of ours still has /proc; treat it as gone
      grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null && break
      sleep 0.1
    done
    if owned "$name" >/dev/null && ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null; then
      note "$name ($pid) ignored SIGTERM for ${secs}s: SIGKILL"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
    fi
  fi
  rm -f "$BENCH_STATE/$name.pid"
  return 0
}

# need_packages CMD:PACKAGE... [FILE:PACKAGE...] -> install what is missing
# (apt-get, when root), or say what to install and fail.
need_packages() {
  local spec what pkg missing=()
  for spec in "$@"; do
    what=${spec%%:*} pkg=${spec#*:}
    if [[ $what == /* ]]; then [ -e "$what" ] && continue; else command -v "$what" >/dev/null && continue; fi
    [[ " ${missing[*]} " == *" $pkg "* ]] || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    die "missing Debian packages: ${missing[*]} (run as root to install them, or: sudo apt-get install ${missing[*]})"
  fi
  note "installing ${missing[*]}"
  apt-get update -q >&2 &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
    die "apt-get install ${missing[*]} failed"
}

# raise_nofile -> soft RLIMIT_NOFILE up to the hard limit (inherited by all we start)
raise_nofile() { ulimit -n "$(ulimit -Hn)" 2>/dev/null || true; }

# adapter_path NAME-or-PATH -> path of a proxy adapter script
adapter_path() {
  if [[ $1 == */* ]]; then realpath "$1"; else echo "$BENCH_DIR/proxies/$1.sh"; fi
}

# repo_commit -> short commit of the repository holding bench/, "+dirty" when tracked files changed
repo_commit() {
  local c
  c=$(git -C "$BENCH_DIR" rev-parse --short HEAD 2>/dev/null) || { echo unknown; return; }
  [ -n "$(git -C "$BENCH_DIR" status --porcelain --untracked-files=no 2>/dev/null)" ] && c="$c+dirty"
  echo "$c"
}
