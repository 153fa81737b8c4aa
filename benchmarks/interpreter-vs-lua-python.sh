#!/usr/bin/env bash
# Interpreter microbenchmarks, side by side in one run: rbic (release), Lua 5.4 and Python 3 run
# the same three programs; medians of N runs and ratios. Needs `lua5.4` (apt-get install lua5.4).
#
#   loop  a 1,000,000-iteration integer loop calling a small function
#   fib   recursive fib(25) in a function
#   text  a long text (100,000 interpolated pieces) built by divide-and-conquer concatenation
#         (rbic has no mutable variables, so all three build it the same recursive way)
#
#     benchmarks/interpreter-vs-lua-python.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
swift build -c release --product rbic >/dev/null
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

cat > "$dir/loop.rb.ic" <<'RB'
runbook "loop" version 1
fn body(i: int) -> int {
  return i * 2 + 1
}
for i in range(1_000_000) {
  if body(i) % 7 == 3 { let _x = i }
}
print "done"
RB
cat > "$dir/loop.lua" <<'LUA'
local function body(i) return i * 2 + 1 end
for i = 0, 999999 do
  if body(i) % 7 == 3 then local x = i end
end
print("done")
LUA
cat > "$dir/loop.py" <<'PY'
def body(i):
    return i * 2 + 1
for i in range(1_000_000):
    if body(i) % 7 == 3:
        x = i
print("done")
PY

cat > "$dir/fib.rb.ic" <<'RB'
runbook "fib" version 1
fn fib(n: int) -> int {
  if n < 2 { return n }
  return fib(n - 1) + fib(n - 2)
}
print fib(25)
RB
cat > "$dir/fib.lua" <<'LUA'
local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
print(fib(25))
LUA
cat > "$dir/fib.py" <<'PY'
def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)
print(fib(25))
PY

cat > "$dir/text.rb.ic" <<'RB'
runbook "text" version 1
fn build(lo: int, hi: int) -> text {
  if hi - lo == 1 { return "item {lo}; " }
  let mid = (lo + hi) / 2
  return build(lo, mid) + build(mid, hi)
}
print len(build(0, 100_000))
RB
cat > "$dir/text.lua" <<'LUA'
local function build(lo, hi)
  if hi - lo == 1 then return "item " .. lo .. "; " end
  local mid = (lo + hi) // 2
  return build(lo, mid) .. build(mid, hi)
end
print(#build(0, 100000))
LUA
cat > "$dir/text.py" <<'PY'
def build(lo, hi):
    if hi - lo == 1:
        return f"item {lo}; "
    mid = (lo + hi) // 2
    return build(lo, mid) + build(mid, hi)
print(len(build(0, 100_000)))
PY

python3 - "$dir" "$runs" "$PWD/.build/release/rbic" <<'PY'
import subprocess, sys, time, statistics
d, runs, rbic = sys.argv[1], int(sys.argv[2]), sys.argv[3]
langs = {
    "rbic": lambda n: [rbic, "run", f"{d}/{n}.rb.ic", "--journal", f"{d}/runs"],
    "lua5.4": lambda n: ["lua5.4", f"{d}/{n}.lua"],
    "python3": lambda n: ["python3", f"{d}/{n}.py"],
}
print(f"{'bench':6} {'rbic s':>9} {'lua s':>9} {'python s':>9} {'rbic/lua':>9} {'rbic/py':>9}")
for bench in ["loop", "fib", "text"]:
    t = {k: [] for k in langs}
    outputs = {}
    for _ in range(runs):                      # interleaved
        for k, argv in langs.items():
            s = time.perf_counter()
            r = subprocess.run(argv(bench), capture_output=True, text=True)
            t[k].append(time.perf_counter() - s)
            assert r.returncode == 0, (k, bench, r.stderr[-500:])
            outputs[k] = [l for l in r.stdout.split("\n") if l and not l.startswith(("Run:", "Recap", "▸"))][-1:]
    assert outputs["lua5.4"] == outputs["python3"] == outputs["rbic"], outputs
    m = {k: statistics.median(v) for k, v in t.items()}
    print(f"{bench:6} {m['rbic']:9.3f} {m['lua5.4']:9.3f} {m['python3']:9.3f} {m['rbic']/m['lua5.4']:8.1f}x {m['rbic']/m['python3']:8.1f}x")
PY
