#!/usr/bin/env bash
# Size and start-up of rbic binaries side by side, in one run: `rbic --version` and
# `rbic check scripts/canister-prod-activation.rb.ic`, with hyperfine (apt-get install hyperfine).
#
#   benchmarks/release-startup.sh NAME=BINARY…
#   e.g. benchmarks/release-startup.sh dynamic=.build/release/rbic \
#          static=.build-release/release/rbic
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
command -v hyperfine > /dev/null || { echo "error: hyperfine is not installed" >&2; exit 3; }

printf '%-12s %10s  %s\n' binary size 'libraries loaded (ldd)'
version_runs=()
check_runs=()
for pair in "$@"; do
  name="${pair%%=*}"
  binary="${pair#*=}"
  size=$(wc -c < "$binary")
  libraries=$( (ldd "$binary" 2> /dev/null || true) | grep -c '=>' || true)
  printf '%-12s %7s MB  %s\n' "$name" "$(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1e6 }')" "$libraries"
  version_runs+=(-n "$name --version" "$binary --version")
  check_runs+=(-n "$name check" "$binary check scripts/canister-prod-activation.rb.ic")
done
hyperfine -N --warmup 10 --runs 100 "${version_runs[@]}"
hyperfine -N --warmup 10 --runs 100 "${check_runs[@]}"
