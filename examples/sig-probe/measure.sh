#!/usr/bin/env bash
# Code size (thumbv7m, opt-level s, fat LTO) and guest instructions under QEMU's -icount of each
# candidate Ed25519 verifier, as in docs/PERFORMANCE.md. Needs arm-none-eabi-size, qemu-system-arm.
set -euo pipefail
cd "$(dirname "$0")"
elf=target/thumbv7m-none-eabi/release/sig-probe
# Flash bytes: code, read-only data and the vector table.
text() { arm-none-eabi-size "$elf" | awk 'NR == 2 { print $1 }'; }
run() {
  timeout 600 qemu-system-arm -M mps2-an385 -nographic -monitor none -serial none \
    -icount shift=0 -semihosting-config enable=on,target=native -kernel "$elf"
}
cargo build --release -q
base=$(text)
echo "baseline: $base B of flash"
for f in dalek dalek,small salty compact compact,small; do
  cargo build --release -q --features "$f"
  size=$(text)
  cargo build --release -q --features "$f,measure,sha256"
  out=$(run)
  echo "$f: verifier $((size - base)) B of code; ${out%%$'\n'*}"
done
cargo build --release -q --features dalek,small,sha256
echo "dalek,small + SHA-256 stream hash: $(( $(text) - base )) B of code"
cargo build --release -q --features dalek,small,measure,sha256
run
# llext-sign's StreamVerifier over a 100 KiB image, fed in 1 KiB chunks as a push does.
cargo build --release -q --features stream
run | tail -2
