#!/usr/bin/env bash
# Fuzzes the three readers of untrusted input, each for a bounded time:
#
#   fuzz/run.sh [seconds] [target...]   # default: 150 seconds each, all targets
#
# Targets: desired (desired-file parser), snapshot (snapshot reader), script
# (plan script reader and statement validator). Seeds come from
# fuzz/corpus/<target>/ (committed); what a run discovers goes to
# fuzz/work/<target>/ (ignored), and crashing inputs to
# fuzz/artifacts/<target>/ (ignored: a crash becomes a unit test). Prints
# one summary line per target and exits 1 if any target crashed.
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and a nightly compiler: the
# nightly toolchain when rustup has one, else the stable compiler with
# RUSTC_BOOTSTRAP=1. PGSR_FUZZ_SANITIZER=none builds without AddressSanitizer
# (faster; for compilers whose sanitizer runtime is missing).
set -euo pipefail
cd "$(dirname "$0")"

seconds="${1:-150}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(desired snapshot script)
case "$seconds" in *[!0-9]* | "") echo "usage: fuzz/run.sh [seconds] [target...]" >&2; exit 2 ;; esac

command -v cargo-fuzz >/dev/null || { echo "fuzz/run.sh: cargo-fuzz is missing: cargo install cargo-fuzz" >&2; exit 1; }
if rustup run nightly rustc --version >/dev/null 2>&1; then
  cargo=(cargo +nightly)
else
  export RUSTC_BOOTSTRAP=1
  cargo=(cargo)
fi
sanitizer="${PGSR_FUZZ_SANITIZER:-address}"

# Built once, then each target binary runs directly: a rebuild between
# targets would fuzz code other than the code this run started with.
mkdir -p work
"${cargo[@]}" fuzz build --sanitizer "$sanitizer" >work/build.log 2>&1 || {
  cat work/build.log >&2; echo "fuzz/run.sh: build failed" >&2; exit 1
}
triple=$(rustc -vV | sed -n 's/^host: //p')
bin="target/$triple/release"

status=0
for target in "${targets[@]}"; do
  mkdir -p "work/$target" "artifacts/$target"
  log="work/$target.log"
  if "$bin/$target" "work/$target" "corpus/$target" \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -artifact_prefix="artifacts/$target/" -print_final_stats=1 >"$log" 2>&1; then
    result="no crash"
  else
    result="CRASH (see fuzz/$log and fuzz/artifacts/$target/)"
    status=1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  echo "fuzz $target: ${seconds}s, ${runs:-?} executions, $result"
done
exit $status
