#!/usr/bin/env bash
# A long fuzz run: builds the tests in Release, runs the Fuzz category with each target's property
# time-bounded (FPROXY_FUZZ_SECONDS) from a random seed (FPROXY_FUZZ_SEED), prints the executions
# per target and every finding, and exits 1 on a finding. The short seeded pass of the same tests
# runs in every `dotnet test`. bench/README.md ("Fuzzing") says more.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    cat <<'USAGE'
usage: bench/fuzz.sh [--minutes N] [--target config|clienthello|proxy|target|all] [--seed N] [--out DIR]
  --minutes N   the whole run's fuzzing time, shared by the targets (default 10)
  --target T    one target, or all four (default all)
  --seed N      a whole number below 10^11 to start from (default random); the same seed and
                minutes make the same inputs, so a run that crashed the test host can be repeated
  --out DIR     where the log and the TRX results go (default $TMPDIR/fproxy-fuzz-DATE)
USAGE
}

minutes=10
target=all
seed=$(( (RANDOM << 15) | RANDOM ))
out="${TMPDIR:-/tmp}/fproxy-fuzz-$(date +%Y%m%d-%H%M%S)"
while [ $# -gt 0 ]; do
    case "$1" in
        --minutes) minutes="$2"; shift 2 ;;
        --target) target="$2"; shift 2 ;;
        --seed) seed="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
done

declare -A classes=([config]=ConfigFuzzTests [clienthello]=ClientHelloFuzzTests [proxy]=ProxyHeaderFuzzTests [target]=TargetParserFuzzTests)
if [ "$target" = all ]; then
    targets=(config clienthello proxy target)
elif [ -n "${classes[$target]:-}" ]; then
    targets=("$target")
else
    echo "fuzz.sh: unknown target \"$target\" (config, clienthello, proxy, target or all)" >&2
    exit 2
fi
if ! [[ "$minutes" =~ ^[0-9]+$ ]] || [ "$minutes" -lt 1 ]; then
    echo "fuzz.sh: --minutes takes a whole number of minutes, at least 1" >&2
    exit 2
fi

# Each target has one time-bounded property; the rest of its tests take a second or less.
seconds=$(( minutes * 60 / ${#targets[@]} ))
filter="TestCategory=Fuzz&("
for t in "${targets[@]}"; do filter+="FullyQualifiedName~FProxy.Tests.Fuzzing.${classes[$t]}|"; done
filter="${filter%|})"
mkdir -p "$out"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
echo "fuzz: building FProxy.Tests (Release)"
dotnet build FProxy.Tests -c Release -v quiet -nologo >"$out/build.log" 2>&1 || { cat "$out/build.log"; exit 1; }

echo "fuzz: ${targets[*]} for ${seconds} s each, seed $seed; results in $out"
started=$(date +%s)
status=0
# Niced: the machine is shared, and the figures that matter here are counts, not times.
FPROXY_FUZZ_SECONDS="$seconds" FPROXY_FUZZ_SEED="$seed" nice -n 10 \
    dotnet test FProxy.Tests -c Release --no-build --filter "$filter" \
    --logger "trx;LogFileName=fuzz.trx" --results-directory "$out" >"$out/test.log" 2>&1 || status=$?
elapsed=$(( $(date +%s) - started ))

# Every fuzz test writes "fuzz TARGET: N executions ..." to its output, which the TRX keeps per
# test (and once more in a summary of all output, not counted).
echo
echo "executions (in ${elapsed} s):"
if [ -f "$out/fuzz.trx" ]; then
    grep -o '<StdOut>fuzz [a-z]*: [0-9]* executions' "$out/fuzz.trx" \
        | awk '{ sum[substr($2, 1, length($2) - 1)] += $3 } END { for (t in sum) printf "  %-12s %12d\n", t, sum[t] }' \
        | sort
fi

failed=$(grep -c '^  Failed ' "$out/test.log" || true)
echo "findings: $failed"
if [ "$failed" -gt 0 ]; then
    # Each finding's message: the input, its seed and what went wrong (CsCheck's shrunk input after it).
    sed -n '/^  Failed /,/^  Stack Trace:/p' "$out/test.log" | grep -v '^  Stack Trace:'
fi
if [ "$status" -ne 0 ]; then
    if [ "$failed" -eq 0 ]; then
        # No test failed, yet the run did: the test host died (a stack overflow or the like), which
        # no test can report. The same seed and minutes make the same inputs again.
        echo "fuzz: the test run failed without a failing test; its log ends:"
        tail -n 30 "$out/test.log"
    fi
    echo "fuzz: repeat with: bench/fuzz.sh --minutes $minutes --target $target --seed $seed"
    exit 1
fi
