#!/usr/bin/env bash
# REPL latency through a real pseudo-terminal (release build): time from start to the first
# prompt, and from Enter to the printed value of a local expression; medians, side by side with
# `python3 -q` reaching its prompt in the same run.
#
#     benchmarks/repl-latency.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product rbic >/dev/null
python3 - "${1:-15}" "$PWD/.build/release/rbic" <<'PY'
import os, pty, sys, time, select, statistics, tempfile
runs, rbic = int(sys.argv[1]), sys.argv[2]
tmp = tempfile.mkdtemp()

def spawn(argv):
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(argv[0], argv)
    return pid, fd

def read_until(fd, needle, timeout=10):
    buf, end = b"", time.perf_counter() + timeout
    while needle not in buf:
        r, _, _ = select.select([fd], [], [], max(0, end - time.perf_counter()))
        if not r: raise TimeoutError(buf[-200:])
        buf += os.read(fd, 4096)
    return buf

first, evals, py = [], [], []
for i in range(runs):
    s = time.perf_counter()
    pid, fd = spawn([rbic, "repl", "--history", f"{tmp}/h", "--journal", f"{tmp}/runs"])
    read_until(fd, b"rbic> ")
    first.append(time.perf_counter() - s)
    for _ in range(5):
        s = time.perf_counter()
        os.write(fd, b"1T + 500B\r")
        read_until(fd, b"1.5T : cycles")
        evals.append(time.perf_counter() - s)
    os.write(fd, b"\x04"); os.waitpid(pid, 0); os.close(fd)
    s = time.perf_counter()
    pid, fd = spawn(["/usr/bin/env", "python3", "-q"])
    read_until(fd, b">>> ")
    py.append(time.perf_counter() - s)
    os.write(fd, b"\x04"); os.waitpid(pid, 0); os.close(fd)
m = statistics.median
print(f"first prompt:          rbic {m(first)*1000:6.1f} ms   python3 {m(py)*1000:6.1f} ms   ratio {m(first)/m(py):.2f}x")
print(f"expression evaluated:  rbic {m(evals)*1000:6.2f} ms   (1T + 500B, Enter to printed value; {len(evals)} samples)")
PY
