#!/usr/bin/env python3
"""Writes the demo modules of scripts/deploy-counter.rb.ic, and counter.did (v1's interface): empty Wasm modules that carry a
`candid:service` interface in an `icp:public` custom section, as `ic-wasm … metadata` attaches it.
The simulated IC and the test double read that interface (init arguments, methods); an empty
module is a valid Wasm module, so the real tools install these too."""
import os

COMMON = """type InitArgs = record { owner : principal; limit : nat64 };
type UpgradeArgs = record { limit : opt nat64 };
type CounterArg = variant { Init : InitArgs; Upgrade : opt UpgradeArgs };
"""

MODULES = {
    "counter-v1.wasm": COMMON + """service : (CounterArg) -> {
  get : () -> (nat64) query;
  increment : () -> ();
  owner : () -> (principal) query;
}
""",
    # v2 adds two methods and keeps every other: a compatible upgrade.
    "counter-v2.wasm": COMMON + """service : (CounterArg) -> {
  get : () -> (nat64) query;
  healthy : () -> (bool) query;
  increment : () -> ();
  owner : () -> (principal) query;
  reset : () -> ();
}
""",
    # v3 drops `increment` and changes what `get` returns: it breaks every client.
    "counter-v3-breaking.wasm": COMMON + """service : (CounterArg) -> {
  get : () -> (text) query;
  owner : () -> (principal) query;
}
""",
}


def leb(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def custom(name, payload):
    body = leb(len(name)) + name + payload
    return b"\x00" + leb(len(body)) + body


def module(service):
    return b"\x00asm\x01\x00\x00\x00" + custom(b"icp:public candid:service", service.encode())


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "counter.did"), "w") as f:
        f.write(MODULES["counter-v1.wasm"])
    for name, service in MODULES.items():
        with open(os.path.join(here, name), "wb") as f:
            f.write(module(service))
