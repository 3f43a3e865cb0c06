#!/bin/bash
# fuzz_long.sh -- long libFuzzer runs of freevix's fuzz targets, unattended
# and resumable, with the corpus merged back into the tree.
#
# Usage: bench/fuzz_long.sh BUILD_DIR [--time SECONDS] [--runs N]
#                           [--max-len BYTES] [--state DIR] [--fresh]
#                           [TARGET...]
#
#   BUILD_DIR   a tree configured with clang (the fuzz targets are
#               BUILD_DIR/fuzz/fuzz_*; they are built here if missing)
#   --time S    stop each target after S seconds (default 600)
#   --runs N    stop each target after N executions (e.g. 10000000); with
#               --time as well, whichever comes first
#   --max-len B the largest input libFuzzer makes (default 65536); the
#               decoders of big XML answers slow down with their inputs'
#               length (fuzz_vim_response: 3,600 exec/s at 11 KiB, 1,350
#               at 29 KiB), so a smaller cap buys executions there
#   --state DIR where the run keeps its state (default BUILD_DIR/fuzz-long):
#               per target a working corpus that grows across runs, crash
#               artifacts, the log and a "done" record with the figures
#   --fresh     redo targets already done with this budget
#   TARGET...   fuzz_vmxspec fuzz_journal ... (default: every target)
#
# Each target runs from fuzz/corpus/TARGET plus its working corpus; then
# -merge=1 minimizes seeds + findings to the smallest set with the same
# coverage, and fuzz/corpus/TARGET becomes: the hand-written seeds (named
# files, always kept) plus that set's other inputs (files named by their
# SHA-1, libFuzzer's names), replacing the findings of earlier runs.  The script prints,
# per target: executions, coverage (libFuzzer's cov: edges and ft:
# features at the end of the run), the corpus size afterwards and how many
# of its files are findings rather than hand-written seeds, seconds; and
# at the end the table for docs/fuzzing.md.  Killed half way (or the
# machine rebooted), it is simply started again with the same arguments:
# targets already done are not run again, the interrupted one restarts
# from its working corpus.  Exit status 1 when a target crashed (the
# artifact path is printed), else 0.
set -uo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: bench/fuzz_long.sh BUILD_DIR [--time S] [--runs N] [TARGET...]}
shift
time_arg=""
runs=0
max_len=65536
state=""
fresh=0
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
  --time) time_arg=${2:?}; shift 2 ;;
  --runs) runs=${2:?}; shift 2 ;;
  --max-len) max_len=${2:?}; shift 2 ;;
  --state) state=${2:?}; shift 2 ;;
  --fresh) fresh=1; shift ;;
  -*) echo "fuzz_long.sh: unknown option $1" >&2; exit 2 ;;
  *) targets+=("$1"); shift ;;
  esac
done
# --runs alone means "until N executions, however long"; otherwise --time
# (default 600 s) bounds each target too.
if [ "$runs" -gt 0 ] && [ -z "$time_arg" ]; then
  seconds=0
else
  seconds=${time_arg:-600}
fi
state=${state:-$build/fuzz-long}
mkdir -p "$state"

if [ ${#targets[@]} -eq 0 ]; then
  for d in "$here"/fuzz/corpus/fuzz_*; do targets+=("$(basename "$d")"); done
fi
for t in "${targets[@]}"; do
  if [ ! -x "$build/fuzz/$t" ]; then
    cmake --build "$build" --target "$t" >/dev/null ||
      { echo "fuzz_long.sh: cannot build $t in $build" >&2; exit 2; }
  fi
done

budget="time=$seconds runs=$runs"
[ "$max_len" -eq 65536 ] || budget="$budget max_len=$max_len"
status=0
printf '%-22s %14s %8s %8s %8s %8s %8s  %s\n' target execs cov ft corpus \
  found seconds result

for t in "${targets[@]}"; do
  dir=$state/$t
  seeds=$here/fuzz/corpus/$t
  mkdir -p "$dir/work" "$dir/artifacts"
  if [ $fresh -eq 0 ] && [ -f "$dir/done" ] &&
     grep -qx "budget=$budget" "$dir/done"; then
    # shellcheck disable=SC1090,SC1091
    (. "$dir/done"; printf '%-22s %14s %8s %8s %8s %8s %8s  %s\n' "$t" \
       "$execs" "$cov" "$ft" "$corpus" "$found" "$secs" "done before")
    continue
  fi
  rm -f "$dir/done"
  args=(-timeout=10 -rss_limit_mb=2048 "-max_len=$max_len" -print_final_stats=1
        "-artifact_prefix=$dir/artifacts/")
  [ "$seconds" -gt 0 ] && args+=("-max_total_time=$seconds")
  [ "$runs" -gt 0 ] && args+=("-runs=$runs")
  start=$(date +%s)
  "$build/fuzz/$t" "${args[@]}" "$dir/work" "$seeds" >"$dir/log" 2>&1
  rc=$?
  secs=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$dir/log" | grep ' cov: ' | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  result=ok
  if [ $rc -ne 0 ]; then
    result="CRASH (exit $rc): $(find "$dir/artifacts" -type f | head -1)"
    status=1
  fi

  # Back into the tree, minimized; the named seeds stay as they are.
  rm -rf "$dir/min"
  mkdir -p "$dir/min"
  if "$build/fuzz/$t" -merge=1 "-max_len=$max_len" "$dir/min" "$seeds" \
       "$dir/work" >>"$dir/log" 2>&1; then
    while IFS= read -r -d '' f; do
      rm -f "$dir/min/$(sha1sum "$f" | cut -c1-40)"
    done < <(find "$seeds" -type f -print0)
    find "$seeds" -type f -regextype posix-extended \
      -regex '.*/[0-9a-f]{40}' -delete
    find "$dir/min" -type f -exec cp {} "$seeds"/ \;
  else
    result="merge failed (see $dir/log)"
    status=1
  fi
  corpus=$(find "$seeds" -type f | wc -l)
  found=$(find "$seeds" -type f -regextype posix-extended \
            -regex '.*/[0-9a-f]{40}' | wc -l)
  cat >"$dir/done" <<EOF
budget=$budget
execs=${execs:-?}
cov=${cov:-?}
ft=${ft:-?}
corpus=$corpus
found=$found
secs=$secs
EOF
  [ "$result" = ok ] || rm -f "$dir/done" # a crash is never "done"
  printf '%-22s %14s %8s %8s %8s %8s %8s  %s\n' "$t" "${execs:-?}" \
    "${cov:-?}" "${ft:-?}" "$corpus" "$found" "$secs" "$result"
done

echo
echo "# for docs/fuzzing.md ($budget, $(date -u +%Y-%m-%d), $(nproc) CPUs)"
echo "| target | executions | cov | ft | corpus files | seconds |"
echo "|---|---|---|---|---|---|"
for t in "${targets[@]}"; do
  [ -f "$state/$t/done" ] || { echo "| $t | (not done) | | | | |"; continue; }
  # shellcheck disable=SC1090,SC1091
  (. "$state/$t/done"; echo "| $t | $execs | $cov | $ft | $corpus | $secs |")
done
exit $status
