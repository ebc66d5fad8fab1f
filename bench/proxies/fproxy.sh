#!/usr/bin/env bash
# FProxy: publishes FProxy.Host (Release) from the repository this script lives in, once per
# $BENCH_STATE (so once per compare.sh or syscalls.sh run), and runs it with a one-app config.
#
# Environment:
#   FPROXY_REPO        repository to build (default: the one holding this script)
#   FPROXY_BUILD_FROM  a git revision (e.g. HEAD): build a clean export of it instead of the work
#                      tree, so uncommitted edits are left out
#   FPROXY_PUBLISH_ARGS extra arguments for dotnet publish (split on spaces), e.g.
#                      "-r linux-x64 -p:PublishReadyToRun=true"
#   FPROXY_TRANSPORT   passed through to FProxy.Host when set (fproxy-sockets.sh sets "sockets")
#   FPROXY_PROXY_PROTOCOL v1 or v2: the app sends a PROXY protocol header to backends that have a
#                      twin port reading one (header_twin in _adapter.sh: compare.sh's HTTP
#                      backend, syscalls.sh's echo); others (iperf3) get none (fproxy-pp.sh sets v2)
#   FPROXY_ADMIN_URL   passed through when set ("none" turns the admin endpoint off); when unset
#                      the admin endpoint is on, as by default, at 127.0.0.1:(LISTEN_PORT + 1)
# Build output goes under $BENCH_STATE, never into the repository's bin/ and obj/.
. "$(dirname "$0")/_adapter.sh"
REPO=${FPROXY_REPO:-$(git -C "$(dirname "$0")" rev-parse --show-toplevel)}
# One published copy (and one build tree) per revision and set of publish arguments, so adapters
# that differ only in them can run side by side in one comparison (a two-line adapter setting
# FPROXY_BUILD_FROM or FPROXY_PUBLISH_ARGS and ADAPTER_NAME, as fproxy-sockets.sh sets
# FPROXY_TRANSPORT): "before" and "after" builds must never share outputs.
BUILD_KEY=$( [ -n "${FPROXY_PUBLISH_ARGS:-}${FPROXY_BUILD_FROM:-}" ] && printf -- '-%s' "$(printf '%s|%s' "${FPROXY_PUBLISH_ARGS:-}" "${FPROXY_BUILD_FROM:-}" | cksum | cut -d' ' -f1)")
PUBLISHED="$BENCH_STATE/fproxy-publish$BUILD_KEY"

source_label() {
  local rev c
  if [ -n "${FPROXY_BUILD_FROM:-}" ]; then
    rev=$(git -C "$REPO" rev-parse --short "$FPROXY_BUILD_FROM^{commit}") || return 1
    echo "$rev"
  else
    c=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
    [ -n "$(git -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null)" ] && c="$c+dirty"
    echo "$c"
  fi
}

proxy_prepare() {
  [ -f "$PUBLISHED/.published" ] && return 0
  command -v dotnet >/dev/null || { note "fproxy: the .NET SDK (dotnet) is not installed"; return 1; }
  local src=$REPO label log="$BENCH_STATE/fproxy-publish$BUILD_KEY.log"
  label=$(source_label) || { note "fproxy: unknown revision $FPROXY_BUILD_FROM"; return 1; }
  if [ -n "${FPROXY_BUILD_FROM:-}" ]; then
    src="$BENCH_STATE/fproxy-src$BUILD_KEY"
    rm -rf "$src" && mkdir -p "$src"
    git -C "$REPO" archive "$FPROXY_BUILD_FROM" | tar -x -C "$src" || return 1
  fi
  note "fproxy: publishing FProxy.Host $label (Release), log in $log"
  rm -rf "$PUBLISHED"
  if ! (cd "$src" && DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 dotnet publish FProxy.Host/FProxy.Host.csproj \
        -c Release -o "$PUBLISHED" --artifacts-path "$BENCH_STATE/fproxy-artifacts$BUILD_KEY" ${FPROXY_PUBLISH_ARGS:-}) >"$log" 2>&1; then
    note "fproxy: dotnet publish failed; last lines of $log:"
    tail -n 15 "$log" >&2
    return 1
  fi
  echo "$label" >"$PUBLISHED/.published"
}

proxy_version() {
  local label
  label=$(cat "$PUBLISHED/.published" 2>/dev/null || source_label)
  echo "FProxy.Host $label, transport ${FPROXY_TRANSPORT:-default}, admin ${FPROXY_ADMIN_URL:-on}"
}

proxy_start() {
  # The config gets a directory of its own: FProxy watches the config's directory, and the logs and
  # files the benchmark writes next to it would wake that watcher all along the measurement.
  local name=$1 port=$2 target=$3 cfg="$BENCH_STATE/$1-config/$1.json" pid exe vars
  proxy_prepare || return 1
  local extra="" twin
  twin=$(header_twin "$target")
  if [ -n "${FPROXY_PROXY_PROTOCOL:-}" ] && [ -n "$twin" ]; then
    target=$twin extra=",\"ProxyProtocol\":\"$FPROXY_PROXY_PROTOCOL\""
  fi
  mkdir -p "${cfg%/*}"
  printf '{"Apps":[{"Name":"bench","Ports":[%s],"Targets":["%s"]%s}]}\n' "$port" "$target" "$extra" >"$cfg"
  if [ -x "$PUBLISHED/FProxy.Host" ]; then exe=("$PUBLISHED/FProxy.Host"); else exe=(dotnet "$PUBLISHED/FProxy.Host.dll"); fi
  vars=(FPROXY_CONFIG_PATH="$cfg" FPROXY_LOG_LEVEL=warning
        FPROXY_ADMIN_URL="${FPROXY_ADMIN_URL:-http://127.0.0.1:$((port + 1))}")
  [ -n "${FPROXY_TRANSPORT:-}" ] && vars+=(FPROXY_TRANSPORT="$FPROXY_TRANSPORT")
  pid=$(spawn "$name" "$PROXY_CPU" "$BENCH_STATE/$name.log" env "${vars[@]}" "${exe[@]}")
  started "$name" "$pid" "$port"
}

adapter_main "${ADAPTER_NAME:-fproxy}" "$@"
