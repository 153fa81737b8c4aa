#!/usr/bin/env bash
# Tool calls of the seed's worked example (the production-activation runbook on the demo world)
# through the test double answering as `icp` and as `dfx`. On mainnet every call is a process
# and a round trip (seconds), so the count is the figure that matters.
#
#     benchmarks/tool-calls.sh          # this tree
#     benchmarks/tool-calls.sh REV      # this tree and REV side by side (REV built in .build-bench/)
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product rbic >/dev/null
swift build --product rbic-test-double >/dev/null
trees=("HEAD-tree:$PWD")
if [ $# -ge 1 ]; then
  rev=$1
  dir=.build-bench/$rev
  if [ ! -d "$dir" ]; then git worktree add --detach "$dir" "$rev" >/dev/null; fi
  (cd "$dir" && swift build --product rbic >/dev/null && swift build --product rbic-test-double >/dev/null)
  trees+=("$rev:$PWD/$dir")
fi
count() {  # tree tool → "calls reads mutations"
  local root=$1 tool=$2 work
  work=$(mktemp -d)
  mkdir "$work/bin"
  ln -s "$root/.build/debug/rbic-test-double" "$work/bin/$tool"
  printf 'runbook "init" version 1\n' >"$work/init.rb.ic"
  "$root/.build/debug/rbic" run "$work/init.rb.ic" --sim-state "$work/state.json" \
    --journal "$work/j" >/dev/null 2>&1 || true   # writes the demo world to state.json
  PATH="$work/bin:$PATH" RBIC_SIM_STATE="$work/state.json" "$root/.build/debug/rbic" run \
    "$root/scripts/canister-prod-activation.rb.ic" --backend "$tool" --yes --journal "$work/runs" \
    --param canister=6iu47-dyaaa-aaaaf-qgeza-cai --param wasm=demo/user_service_with_metadata.wasm \
    >/dev/null 2>"$work/stderr" || true
  local calls reads
  calls=$(grep -c "    \$ $tool " "$work/stderr" || true)
  reads=$(grep -cE "    \\\$ $tool (canister (status|info)|identity|cycles balance|--version)" "$work/stderr" || true)
  echo "$calls $reads $((calls - reads))"
  rm -rf "$work"
}
printf "%-12s %-5s %6s %6s %10s\n" tree tool calls reads mutations
for entry in "${trees[@]}"; do
  name=${entry%%:*}; root=${entry#*:}
  for tool in icp dfx; do
    read -r calls reads mutations < <(count "$root" "$tool")
    printf "%-12s %-5s %6s %6s %10s\n" "$name" "$tool" "$calls" "$reads" "$mutations"
  done
done

# The reviewed flow, this tree: `plan --out` then `run --plan` (which plans again before it acts,
# so a stale plan is refused with nothing changed), next to a plain `run` above.
saved() {  # tool → "plan-calls apply-calls"
  local tool=$1 work root=$PWD
  work=$(mktemp -d)
  mkdir "$work/bin"
  ln -s "$root/.build/debug/rbic-test-double" "$work/bin/$tool"
  printf 'runbook "init" version 1\n' >"$work/init.rb.ic"
  "$root/.build/debug/rbic" run "$work/init.rb.ic" --sim-state "$work/state.json" --journal "$work/j" >/dev/null 2>&1 || true
  PATH="$work/bin:$PATH" RBIC_SIM_STATE="$work/state.json" "$root/.build/debug/rbic" plan \
    "$root/scripts/canister-prod-activation.rb.ic" --backend "$tool" --out "$work/plan.json" \
    --param canister=6iu47-dyaaa-aaaaf-qgeza-cai --param wasm=demo/user_service_with_metadata.wasm \
    >/dev/null 2>"$work/plan.stderr" || true
  PATH="$work/bin:$PATH" RBIC_SIM_STATE="$work/state.json" "$root/.build/debug/rbic" run --plan "$work/plan.json" \
    --yes --journal "$work/runs" >/dev/null 2>"$work/run.stderr" || true
  echo "$(grep -c "    \$ $tool " "$work/plan.stderr" || true) $(grep -c "    \$ $tool " "$work/run.stderr" || true)"
  rm -rf "$work"
}
printf "\n%-5s %12s %15s\n" tool "plan --out" "run --plan"
for tool in icp dfx; do
  read -r planned applied < <(saved "$tool")
  printf "%-5s %12s %15s\n" "$tool" "$planned" "$applied"
done
