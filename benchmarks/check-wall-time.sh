#!/usr/bin/env bash
# Whole-process wall time of `rbic check` on the production-activation runbook (release build),
# median of N runs, side by side with `/bin/true` and `rbic --help` as floors in the same loop.
#
#     benchmarks/check-wall-time.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product rbic >/dev/null
runs=${1:-31}
python3 - "$runs" <<'PY'
import subprocess, sys, time, statistics
runs = int(sys.argv[1])
commands = {
    "/bin/true": ["/bin/true"],
    "rbic --help": [".build/release/rbic", "--help"],
    "rbic check activation": [".build/release/rbic", "check", "scripts/canister-prod-activation.rb.ic"],
    "rbic check scripts/*": [".build/release/rbic", "check", "scripts/canister-prod-activation.rb.ic",
                             "scripts/fleet-cycles-topup.rb.ic", "scripts/controller-management.rb.ic"],
}
times = {name: [] for name in commands}
for _ in range(runs):                      # interleaved, so all see the same machine state
    for name, argv in commands.items():
        start = time.perf_counter()
        r = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times[name].append(time.perf_counter() - start)
        assert r.returncode == 0, (name, r.returncode)
base = statistics.median(times["/bin/true"])
print(f"{'command':26} {'median ms':>10} {'ratio to /bin/true':>20}")
for name, ts in times.items():
    m = statistics.median(ts)
    print(f"{name:26} {m*1000:10.2f} {m/base:20.1f}x")
PY
