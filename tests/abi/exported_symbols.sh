#!/bin/sh
# Every function declared in vixDiskLib.h and freevix.h is exported by the
# library, and nothing else is (no internal symbol leaks out).
set -eu
lib=$1
inc=$2
LANG=C
export LANG

declared=$(cat "$inc/vixDiskLib.h" "$inc/freevix.h" |
  grep -oE '\b(VixDiskLib|freevix)_[A-Za-z0-9_]+ *\(' | tr -d ' (' | sort -u)
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TW]$/ {print $3}' |
  sed 's/@.*//' | sort -u)

missing=$(printf '%s\n' "$declared" | comm -23 - "$(printf '%s\n' "$exported" > /tmp/fvx_exp.$$; echo /tmp/fvx_exp.$$)")
extra=$(printf '%s\n' "$exported" | grep -vE '^(VixDiskLib|freevix)_' || true)
rm -f /tmp/fvx_exp.$$
status=0
if [ -n "$missing" ]; then
  echo "declared but not exported:"; echo "$missing"; status=1
fi
if [ -n "$extra" ]; then
  echo "exported but not part of the API:"; echo "$extra"; status=1
fi
[ $status -eq 0 ] && echo "$(printf '%s\n' "$declared" | wc -l) functions exported, nothing else"
exit $status
