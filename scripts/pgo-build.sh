#!/usr/bin/env bash
# Build ironpc with profile-guided optimisation (PGO) on top of the release
# profile (fat LTO): an instrumented build runs a training set, LLVM's
# llvm-profdata merges what it recorded, and the final build uses it.
#
#   scripts/pgo-build.sh            # -> target/pgo/use/release/ironpc
#   CARGO_TARGET_DIR=DIR scripts/pgo-build.sh   # -> DIR/use/release/ironpc
#
# Needs llvm-profdata of the same LLVM as rustc: `rustup component add
# llvm-tools` puts it in the toolchain's lib/rustlib/<host>/bin, where this
# script looks first (PATH's llvm-profdata is tried last; an older LLVM's
# cannot read rustc's raw profiles). nasm assembles the workloads.
#
# The training set, each run short: the 16-bit `mix` workload on the bare
# board, `mix32` (386 core, paging) and `mandel87` (x87 doubles), and, when
# the shared data is there ($IRONPC_SHARED, default ../shared), FreeDOS
# booted on the XT and on the AT machine and the Linux image booted to 5 s
# of emulated time (BIOS, SYSLINUX and the start of the kernel's xz
# decompressor). `mix32` and `mandel87` are also what compare.sh measures:
# say so next to any figure taken with this build (docs/performance.md).
# The path prints the binary's path on its last line.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
base=${CARGO_TARGET_DIR:-$root/target/pgo}
shared=${IRONPC_SHARED:-$root/../shared}
host=$(rustc -vV | sed -n 's/^host: //p')
sysroot=$(rustc --print sysroot)
profdata="$sysroot/lib/rustlib/$host/bin/llvm-profdata"
if [ ! -x "$profdata" ]; then
    profdata=$(command -v llvm-profdata || true)
    [ -n "$profdata" ] || {
        echo "pgo-build.sh: llvm-profdata not found: rustup component add llvm-tools" >&2
        exit 2
    }
fi
command -v nasm >/dev/null || { echo "pgo-build.sh: nasm not found (apt-get install nasm)" >&2; exit 2; }

raw="$base/raw"
work=$(mktemp -d /tmp/ironpc-pgo.XXXXXX)
trap 'rm -rf "$work"' EXIT
rm -rf "$raw"
mkdir -p "$raw"
export CARGO_PROFILE_RELEASE_LTO=fat CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1
# RUSTFLAGS replaces .cargo/config.toml's flags: the same LLVM option here.
cgp="-Cllvm-args=-cgp-max-address-users-to-scan=100000"

echo "pgo-build.sh: instrumented build..." >&2
(cd "$root" && RUSTFLAGS="-Cprofile-generate=$raw $cgp" CARGO_TARGET_DIR="$base/gen" \
    cargo build --release -q -p ironpc-harness --bin ironpc)
gen="$base/gen/release/ironpc"

echo "pgo-build.sh: training..." >&2
w="$root/harness/workloads"
nasm -f bin -DROUNDS=60 -I "$w/" -o "$work/mix.img" "$w/mix.asm"
nasm -f bin -DROUNDS=3 -I "$w/" -o "$work/mix32.img" "$w/mix32.asm"
nasm -f bin -DROUNDS=2 -I "$w/" -o "$work/m87.img" "$w/mandel87boot.asm"
"$gen" bench --timing fast --rounds 1 "$work/mix.img" >/dev/null
"$gen" bench --timing fast --rounds 1 --cpu 386 "$work/mix32.img" >/dev/null
"$gen" bench --timing fast --rounds 1 --cpu pentium-pro "$work/m87.img" >/dev/null
if [ -d "$shared/images" ]; then
    "$gen" run --bios "$shared/images/bios/glabios-0.2.6-xt.rom" \
        --floppy "$shared/images/floppy/freedos-360k.img" --until-text 'A:\>' --timeout 120 >/dev/null
    "$gen" run --machine pc --floppy "$shared/images/floppy/freedos-1440k.img" \
        --until-text 'A:\>' --timeout 120 >/dev/null
    "$gen" run --machine pc --hda "$shared/images/disk/linux-686-busybox.img" \
        --save-at 5 --save-state "$work/lx5.state" --timeout 600 >/dev/null 2>&1
else
    echo "pgo-build.sh: no $shared/images: training on the workloads alone" >&2
fi
"$profdata" merge -o "$base/merged.profdata" "$raw"

echo "pgo-build.sh: optimised build..." >&2
# rustc warns about every function the training did not reach; keep its log.
if ! (cd "$root" && RUSTFLAGS="-Cprofile-use=$base/merged.profdata $cgp" CARGO_TARGET_DIR="$base/use" \
    cargo build --release -q -p ironpc-harness --bin ironpc) 2>"$base/use-build.log"; then
    cat "$base/use-build.log" >&2
    echo "pgo-build.sh: the optimised build failed" >&2
    exit 1
fi
echo "$base/use/release/ironpc"
