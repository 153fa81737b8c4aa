#!/usr/bin/env bash
# Coverage-guided fuzzing of the front end with libFuzzer.
#
#     fuzz/run.sh [SECONDS] [libFuzzer flags…]      # default 60 s
#
# Builds the front end (diagnostics, lexer, parser, checker) with libFuzzer's instrumentation
# (`-sanitize=fuzzer`) in .build-fuzz/, links fuzz/RbicFuzz.swift against it, and fuzzes `check`
# (as a file and as a REPL fragment) and `fmt`, starting from every runbook under Tests/ and
# scripts/. A crash, a hang (over 10 s) or an out-of-memory input is written to fuzz/findings/
# and fails the script; the executions run are in the last line libFuzzer prints.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
swift build --scratch-path .build-fuzz --target RbicBuiltins -Xswiftc -sanitize=fuzzer >/dev/null
build=.build-fuzz/debug
# The package name SwiftPM compiled the front end with (the harness uses `package` API).
package=$(grep -o '"-module-name","RbicParser"[^]]*"-package-name","[^"]*"' .build-fuzz/debug.yaml | head -1 |
  sed 's/.*"-package-name","\([^"]*\)"/\1/')
objects=()
for target in RbicDiagnostics RbicCandid RbicLexer RbicParser RbicRuntime RbicBuiltins Subprocess SystemPackage CSystem _SubprocessCShims Yams CYaml Crypto CCryptoBoringSSL \
  CCryptoBoringSSLShims CryptoBoringWrapper WasmParser WasmTypes; do
  while IFS= read -r o; do objects+=("$o"); done < <(find "$build/$target.build" -name '*.o')
done
clang=()
while IFS= read -r map; do
  clang+=(-Xcc "-fmodule-map-file=$map" -Xcc "-I$(dirname "$map")")
done < <(find .build-fuzz/checkouts -path '*/include/module.modulemap')
swiftc -sanitize=fuzzer -parse-as-library -package-name "$package" -I "$build/Modules" "${clang[@]}" \
  fuzz/RbicFuzz.swift "${objects[@]}" -lstdc++ -o "$build/rbic-fuzz"
corpus=.build-fuzz/corpus
mkdir -p "$corpus" fuzz/findings
find Tests scripts -name '*.rb.ic' -exec cp {} "$corpus/" \;
find Tests/RbicTests/Candid -name '*.did' -exec cp {} "$corpus/" \;
"$build/rbic-fuzz" "$corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=65536 \
  -artifact_prefix=fuzz/findings/ -print_final_stats=1 "$@"
