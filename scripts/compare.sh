#!/usr/bin/env bash
# Compare ironpc's speed with QEMU (TCG) and Bochs on the `mix` workload.
#
#   scripts/compare.sh                # ROUNDS=1000
#   ROUNDS=2000 scripts/compare.sh
#   SKIP=bochs scripts/compare.sh     # leave out an emulator (qemu, bochs)
#   LTO=0 scripts/compare.sh          # ironpc built with the plain release profile
#   PGO=1 scripts/compare.sh          # ironpc built with PGO (scripts/pgo-build.sh)
#   MODE=boot scripts/compare.sh      # ironpc boots the floppy through a BIOS too
#   WORKLOAD=mix32 ROUNDS=100 scripts/compare.sh   # the 32-bit workload (386 core)
#   MODE=linux scripts/compare.sh     # Linux to its shell prompt (issue 17)
#   MODE=linux BIOS=seabios scripts/compare.sh   # the same on SeaBIOS
#   WORKLOAD=mandel87 ROUNDS=200 scripts/compare.sh  # x87 doubles (Pentium Pro model)
#
# MODE=bench (the default) runs ironpc's `bench`: the CPU alone, the sector
# started at 0000:7C00 on a bare board. MODE=boot runs the whole machine:
# `ironpc run` on the XT profile, GLaBIOS (from $IRONPC_SHARED/images/bios,
# default ../shared beside the repository) loading the sector from a 360K
# floppy image, with every device of the board running, as QEMU and Bochs
# boot it through their BIOSes. ironpc's binary goes to $CARGO_TARGET_DIR
# (default target/compare, target/compare-nolto with LTO=0, or
# target/compare-pgo with PGO=1: profile-guided, trained by
# scripts/pgo-build.sh on a set that includes mix32 and mandel87).
#
# Needs: nasm, cargo; qemu-system-i386; bochs, bochsbios, vgabios
# (Debian: apt-get install -y nasm qemu-system-x86 bochs bochsbios vgabios).
#
# The workload (harness/workloads/mix.asm) is assembled twice: with ROUNDS
# rounds, and with 1 round to measure each emulator's fixed start-up cost
# (QEMU and Bochs boot a BIOS from a floppy image; ironpc starts the sector
# directly at 0000:7C00). Both raw wall times and "net" times (ROUNDS run
# minus 1-round run) are printed, with the checksum line each emulator
# printed on port E9h: they must agree.
#
# WORKLOAD=mix32 runs harness/workloads/mix32.asm instead: protected mode
# with paging on, on ironpc's ia32 core (`ironpc bench --cpu 386`; with
# MODE=boot, booted from the floppy by the Bochs BIOS on the at-486 machine).
# WORKLOAD=mandel87 runs harness/workloads/mandel87boot.asm: the x87
# Mandelbrot kernel of the ia32_x87 bench, ROUNDS times, in flat protected
# mode (`ironpc bench --cpu pentium-pro`; QEMU's and Bochs's default CPUs,
# which have an x87).
#
# MODE=linux boots $IRONPC_SHARED/images/disk/linux-686-busybox.img (or
# IMG=...) to the busybox prompt `/ # ` on COM1 and takes the wall time at
# which the prompt appears in each emulator's serial output file (polled every
# 50 ms): `ironpc run --machine pc --hda IMG` (Bochs BIOS, Pentium Pro,
# 64 MiB), `qemu-system-i386 -m 128 -hda IMG -serial file:...` (TCG) and
# Bochs (BIOS-bochs-latest, a P6-class `p2_klamath` CPU for the 686 kernel's
# CMOV, 128 MiB, `clock: sync=none`). The ironpc report gives its emulated
# time to the prompt.
#
# BIOS=seabios (MODE=linux and MODE=boot with WORKLOAD=mix32 or mandel87)
# boots every emulator through SeaBIOS instead of the Bochs BIOS: ironpc
# `--machine pc-seabios` (MODE=boot: `--machine pc-seabios` too, the PCI
# machine, in place of at-486), QEMU as always (its own SeaBIOS), and
# Bochs with SEABIOS_ROM (default /usr/share/seabios/bios.bin, Debian's
# seabios package: the 128 KiB image, which Bochs 2.7 maps below 1 MiB and
# at the top of 4 GiB as it does its own BIOS) as its romimage. The default,
# BIOS=bochs, keeps the Bochs BIOS in ironpc and Bochs. Bochs 2.7 runs
# SeaBIOS 1.16 and the kernel, which then finds SeaBIOS's MP table and takes
# the IO-APIC path ("MP-BIOS bug: 8254 timer not connected to IO-APIC"); on
# 2026-12-06 it had not reached the prompt after 600 s (docs/performance.md).
# An emulator that times out is reported with its last line on COM1.
#
# Endings: ironpc and QEMU stop at the write to port F4h (isa-debug-exit).
# Bochs has no isa-debug-exit and, after `cli; hlt`, only logs a warning and
# idles, so the script watches its port-E9 output and stops Bochs once the
# checksum line is complete; the time is taken when the line appears (polled
# every 20 ms).
set -euo pipefail

ROUNDS=${ROUNDS:-1000}
MODE=${MODE:-bench}
case "$MODE" in bench | boot | linux) ;; *) echo "compare.sh: MODE must be bench, boot or linux, not '$MODE'" >&2; exit 2 ;; esac
SKIP=${SKIP:-}
BIOS=${BIOS:-bochs}
case "$BIOS" in bochs | seabios) ;; *) echo "compare.sh: BIOS must be bochs or seabios, not '$BIOS'" >&2; exit 2 ;; esac
WORKLOAD=${WORKLOAD:-mix}
case "$WORKLOAD" in
mix) SUMRE='mix [0-9A-F]\{4\} [0-9A-F]\{4\}'; CPUARGS=() ;;
mix32)
    SUMRE='mix32 [0-9A-F]\{8\} [0-9A-F]\{8\}'; CPUARGS=(--cpu 386)
    ;;
mandel87)
    SUMRE='mandel87 [0-9A-F]\{8\}'; CPUARGS=(--cpu pentium-pro)
    ;;
*) echo "compare.sh: WORKLOAD must be mix, mix32 or mandel87, not '$WORKLOAD'" >&2; exit 2 ;;
esac
ASM=$WORKLOAD
[ "$WORKLOAD" = mandel87 ] && ASM=mandel87boot
TIMEOUT=${TIMEOUT:-900}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/ironpc-compare.XXXXXX)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT

need() { command -v "$1" >/dev/null 2>&1 || { echo "compare.sh: '$1' not found ($2)" >&2; exit 2; }; }
need nasm "apt-get install nasm"
need cargo "install Rust"
now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc; }
checksum() { grep -ao "$SUMRE" "$1" | head -1 || true; }

# ---- images ---------------------------------------------------------------
for n in "$ROUNDS" 1; do
    nasm -f bin -DROUNDS="$n" -I "$root/harness/workloads/" -o "$work/mix$n.img" "$root/harness/workloads/$ASM.asm"
    cp "$work/mix$n.img" "$work/fd$n.img"
    truncate -s 1440K "$work/fd$n.img" # a 1.44 MB floppy for the BIOSes
    cp "$work/mix$n.img" "$work/xt$n.img"
    truncate -s 360K "$work/xt$n.img" # ironpc's XT profile has 360K drives
done

# ---- ironpc ---------------------------------------------------------------
# By default ironpc is built with whole-program optimisation (fat LTO, one
# codegen unit) on top of the workspace's release profile, in a target
# directory of its own; LTO=0 uses the release profile as it is.
LTO=${LTO:-1}
PGO=${PGO:-0}
if [ "$PGO" = 1 ]; then
    # Profile-guided on top of fat LTO (scripts/pgo-build.sh: its training set).
    export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target/compare-pgo}"
    echo "building ironpc (release, LTO, PGO)..." >&2
    "$root/scripts/pgo-build.sh" >/dev/null
    tdir=$CARGO_TARGET_DIR/use/release
elif [ "$LTO" = 1 ]; then
    export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target/compare}"
    export CARGO_PROFILE_RELEASE_LTO=fat CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1
    export CARGO_PROFILE_BENCH_LTO=fat CARGO_PROFILE_BENCH_CODEGEN_UNITS=1
else
    export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target/compare-nolto}"
    export CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
fi
if [ "$PGO" != 1 ]; then
    tdir=$CARGO_TARGET_DIR/release
    echo "building ironpc (release, LTO=$LTO)..." >&2
    (cd "$root" && cargo build --release -q -p ironpc-harness --bin ironpc)
fi
ironpc_cmd=()
ironpc_help=$("$tdir/ironpc" bench --help 2>&1 || true)
shared=${IRONPC_SHARED:-$root/../shared}
glabios="$shared/images/bios/glabios-0.2.6-xt.rom"
SEABIOS_ROM=${SEABIOS_ROM:-/usr/share/seabios/bios.bin}
BOCHS_ROM=/usr/share/bochs/BIOS-bochs-latest
AT_MACHINE=at-486
PC_MACHINE=pc
if [ "$BIOS" = seabios ]; then
    [ "$MODE" = bench ] && { echo "compare.sh: BIOS=seabios needs MODE=boot or MODE=linux" >&2; exit 2; }
    [ "$MODE" = boot ] && [ "$WORKLOAD" = mix ] && {
        echo "compare.sh: BIOS=seabios with MODE=boot needs WORKLOAD=mix32 or mandel87 (mix boots GLaBIOS on the XT)" >&2
        exit 2
    }
    [ -f "$SEABIOS_ROM" ] || { echo "compare.sh: BIOS=seabios needs $SEABIOS_ROM (apt-get install seabios)" >&2; exit 2; }
    BOCHS_ROM=$SEABIOS_ROM
    AT_MACHINE=pc-seabios
    PC_MACHINE=pc-seabios
fi
if [ "$MODE" = boot ]; then
    [ -f "$glabios" ] || { echo "compare.sh: MODE=boot needs $glabios (set IRONPC_SHARED)" >&2; exit 2; }
    # The sector image argument is appended by run_ironpc: --floppy takes it.
    if [ "$WORKLOAD" != mix ]; then
        # The 32-bit workload boots on the AT machine (Bochs legacy BIOS, LGPL
        # VGA BIOS, 486) from the same 1.44 MB floppy as QEMU and Bochs.
        ironpc_cmd=("$tdir/ironpc" run --machine "$AT_MACHINE" --timeout "$TIMEOUT" --floppy)
        BOOTIMG=fd
    else
        ironpc_cmd=("$tdir/ironpc" run --timing fast --bios "$glabios" --timeout "$TIMEOUT" --floppy)
        BOOTIMG=xt
    fi
elif [[ $ironpc_help == *--rounds* ]]; then
    # One round: the image once, as QEMU and Bochs run it (the CLI's default
    # is several rounds).
    ironpc_cmd=("$tdir/ironpc" bench --timing fast --rounds 1 "${CPUARGS[@]}")
elif [[ $ironpc_help == *--timing* ]]; then
    ironpc_cmd=("$tdir/ironpc" bench --timing fast)
else
    # Until the CLI has `bench`: the bench target that calls harness::bench::run.
    (cd "$root" && cargo bench -q -p ironpc-harness --bench run_image --no-run 2>/dev/null)
    runner=$(ls -t "$tdir"/deps/run_image-* 2>/dev/null | grep -v '\.d$' | head -1)
    [ -x "$runner" ] || { echo "compare.sh: run_image bench binary not found" >&2; exit 2; }
    ironpc_cmd=("$runner" --timing fast)
fi

# ---- MODE=linux: wall time to the shell prompt on the serial port ----
# Start "$@" in the background, wait until $1 (a serial output file) shows
# the prompt, stop it; sets T (wall seconds, or "timeout").
until_prompt() { # $1 = serial file; rest = command
    local ser=$1 t0 pid deadline
    shift
    rm -f "$ser"
    t0=$(now)
    "$@" >"$ser.stdout" 2>"$ser.stderr" </dev/null &
    pid=$!
    deadline=$(echo "$t0 + $TIMEOUT" | bc)
    T=timeout
    while :; do
        if grep -aq '/ # ' "$ser" 2>/dev/null; then T=$(elapsed "$t0" "$(now)"); break; fi
        if ! kill -0 "$pid" 2>/dev/null; then break; fi
        if [ "$(echo "$(now) > $deadline" | bc)" = 1 ]; then break; fi
        sleep 0.05
    done
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

if [ "$MODE" = linux ]; then
    img=${IMG:-$shared/images/disk/linux-686-busybox.img}
    [ -f "$img" ] || { echo "compare.sh: MODE=linux needs $img (set IRONPC_SHARED or IMG)" >&2; exit 2; }
    # Guest writes stay in memory in ironpc; QEMU and Bochs get copies.
    cp "$img" "$work/linux-qemu.img"
    cp "$img" "$work/linux-bochs.img"
    declare -A lt
    load0=$(cut -d' ' -f1-3 /proc/loadavg)
    echo "running ironpc..." >&2
    until_prompt "$work/ironpc.serial" "$tdir/ironpc" run --machine "$PC_MACHINE" --hda "$img" \
        --serial "$work/ironpc.serial" --until-text '/ # ' --timeout "$TIMEOUT"
    lt[ironpc]=$T
    case " $SKIP " in *" qemu "*) ;; *)
        need qemu-system-i386 "apt-get install qemu-system-x86"
        echo "running qemu..." >&2
        until_prompt "$work/qemu.serial" qemu-system-i386 -accel tcg -m 128 -display none -net none \
            -monitor none -no-reboot -drive "format=raw,file=$work/linux-qemu.img" \
            -serial "file:$work/qemu.serial"
        lt[qemu]=$T
        ;;
    esac
    case " $SKIP " in *" bochs "*) ;; *)
        need bochs "apt-get install bochs bochsbios vgabios"
        # Headless display as in the other modes (set further down for them).
        BOCHS_DISPLAY=nogui
        if [ -d /usr/lib/x86_64-linux-gnu/bochs/plugins ] &&
            ! ls /usr/lib/x86_64-linux-gnu/bochs/plugins | grep -q nogui; then
            BOCHS_DISPLAY='rfb, options="timeout=0"'
        fi
        # 16 MiB = 64 cylinders x 16 heads x 32 sectors (Bochs takes at most 63 sectors a track).
        cat >"$work/bochsrc-linux" <<EOF
megs: 128
cpu: model=p2_klamath
romimage: file=$BOCHS_ROM
vgaromimage: file=/usr/share/vgabios/vgabios.bin
ata0-master: type=disk, path=$work/linux-bochs.img, mode=flat, cylinders=64, heads=16, spt=32
boot: disk
com1: enabled=1, mode=file, dev=$work/bochs.serial
display_library: $BOCHS_DISPLAY
clock: sync=none
speaker: enabled=0
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
log: $work/bochs-linux.log
EOF
        echo c >"$work/bochs.dbg"
        dbg=()
        help=$(bochs --help 2>&1 || true)
        if [[ $help == *"-rc filename"* ]]; then dbg=(-rc "$work/bochs.dbg"); fi
        echo "running bochs (several minutes)..." >&2
        until_prompt "$work/bochs.serial" bochs -q -f "$work/bochsrc-linux" "${dbg[@]}"
        lt[bochs]=$T
        ;;
    esac
    echo
    echo "Linux to '/ # ' on COM1 ($img), BIOS=$BIOS (ironpc --machine $PC_MACHINE, Bochs $BOCHS_ROM)"
    echo "load average at the start $load0, at the end $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
    for e in ironpc qemu bochs; do
        [ -n "${lt[$e]:-}" ] || continue
        if [ "${lt[$e]}" = timeout ]; then
            # Say how far it got: its last line on COM1.
            last=$(tr -d '\r' <"$work/$e.serial" 2>/dev/null | grep -a . | tail -1 || true)
            printf '%-8s no prompt within TIMEOUT=%s s; its last line on COM1: %s\n' "$e" "$TIMEOUT" "${last:-(nothing)}"
        else
            printf '%-8s %s s wall\n' "$e" "${lt[$e]}"
        fi
    done
    echo
    echo "ironpc report:"
    cat "$work/ironpc.serial.stderr"
    exit 0
fi

# CPU time (user + system) of a command that exits by itself, via GNU time.
timed() { # $1 = file for the CPU time; rest = command
    local f=$1
    shift
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f "%U %S" -o "$f.t" "$@"
        awk 'END { print $1 + $2 }' "$f.t" >"$f" # the last line: GNU time may note the exit status first
    else
        "$@"
        echo "" >"$f"
    fi
}

run_ironpc() { # $1 = rounds; sets T (wall), C (CPU) and OUT
    local out="$work/ironpc$1.out" t0
    t0=$(now)
    if [ "$MODE" = boot ]; then
        # The F4h exit gives status 1 (isa-debug-exit's (0 << 1) | 1), as QEMU's.
        timed "$work/ironpc$1.cpu" "${ironpc_cmd[@]}" "$work/$BOOTIMG$1.img" \
            --debugcon "$work/ironpc$1.e9" >"$work/ironpc$1.screen" 2>"$out" || true
        cat "$work/ironpc$1.e9" >>"$out" 2>/dev/null || true
    else
        timed "$work/ironpc$1.cpu" "${ironpc_cmd[@]}" "$work/mix$1.img" >"$out"
    fi
    T=$(elapsed "$t0" "$(now)")
    C=$(cat "$work/ironpc$1.cpu")
    OUT=$out
}

run_qemu() {
    local e9="$work/qemu$1.e9" t0
    rm -f "$e9"
    t0=$(now)
    # isa-debug-exit makes QEMU exit with status (value << 1) | 1.
    timed "$work/qemu$1.cpu" timeout "$TIMEOUT" qemu-system-i386 -accel tcg -nographic -no-reboot -net none \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 -debugcon "file:$e9" \
        -drive "format=raw,file=$work/fd$1.img,if=floppy" -boot a \
        >"$work/qemu$1.log" 2>&1 || true
    T=$(elapsed "$t0" "$(now)")
    C=$(cat "$work/qemu$1.cpu")
    OUT=$e9
}

run_bochs() {
    local out="$work/bochs$1.out" rc="$work/bochsrc$1" t0 pid deadline
    cat >"$rc" <<EOF
megs: 16
romimage: file=$BOCHS_ROM
vgaromimage: file=/usr/share/vgabios/vgabios.bin
floppya: 1_44=$work/fd$1.img, status=inserted
boot: floppy
port_e9_hack: enabled=1
display_library: $BOCHS_DISPLAY
clock: sync=none
speaker: enabled=0
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
log: $work/bochs$1.log
EOF
    # Debian's Bochs is built with the internal debugger, which waits for a
    # command before running: give it "continue".
    echo c >"$work/bochs.dbg"
    local dbg=()
    local help
    help=$(bochs --help 2>&1 || true)
    if [[ $help == *"-rc filename"* ]]; then dbg=(-rc "$work/bochs.dbg"); fi
    t0=$(now)
    bochs -q -f "$rc" "${dbg[@]}" >"$out" 2>"$work/bochs$1.err" </dev/null &
    pid=$!
    deadline=$(echo "$t0 + $TIMEOUT" | bc)
    while :; do
        if grep -aq "$SUMRE" "$out" 2>/dev/null; then break; fi
        if ! kill -0 "$pid" 2>/dev/null; then break; fi
        if [ "$(echo "$(now) > $deadline" | bc)" = 1 ]; then break; fi
        sleep 0.02
    done
    T=$(elapsed "$t0" "$(now)")
    # CPU time so far (all threads), from /proc before stopping it.
    C=$(awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$pid/stat" 2>/dev/null || echo "")
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    OUT=$out
}

# Bochs's display library: 'nogui' where built in; Debian ships none of the
# headless ones but rfb (a VNC server that need not be connected to).
BOCHS_DISPLAY=nogui
if [ -d /usr/lib/x86_64-linux-gnu/bochs/plugins ] &&
    ! ls /usr/lib/x86_64-linux-gnu/bochs/plugins | grep -q nogui; then
    BOCHS_DISPLAY='rfb, options="timeout=0"'
fi

declare -A raw base sum cpu cbase
emus=(ironpc)
case " $SKIP " in *" qemu "*) ;; *) need qemu-system-i386 "apt-get install qemu-system-x86"; emus+=(qemu) ;; esac
case " $SKIP " in *" bochs "*) ;; *) need bochs "apt-get install bochs bochsbios vgabios"; emus+=(bochs) ;; esac

for e in "${emus[@]}"; do
    echo "running $e (ROUNDS=$ROUNDS, then 1)..." >&2
    "run_$e" "$ROUNDS"
    raw[$e]=$T
    cpu[$e]=${C:-0}
    sum[$e]=$(checksum "$OUT")
    "run_$e" 1
    base[$e]=$T
    cbase[$e]=${C:-0}
done

echo
echo "$WORKLOAD workload, ROUNDS=$ROUNDS, MODE=$MODE, BIOS=$BIOS, ironpc LTO=$LTO; $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
printf '%-8s %9s %9s %9s %9s %9s   %s\n' emulator "wall (s)" "1-round" "net" "cpu (s)" "net cpu" checksum
for e in "${emus[@]}"; do
    net=$(echo "${raw[$e]} - ${base[$e]}" | bc)
    cnet=$(echo "${cpu[$e]} - ${cbase[$e]}" | bc)
    printf '%-8s %9.3f %9.3f %9.3f %9.3f %9.3f   %s\n' "$e" "${raw[$e]}" "${base[$e]}" "$net" \
        "${cpu[$e]}" "$cnet" "${sum[$e]:-(none)}"
done
echo
status=0
for e in "${emus[@]}"; do
    if [ -z "${sum[$e]}" ] || [ "${sum[$e]}" != "${sum[ironpc]}" ]; then
        echo "CHECKSUM MISMATCH: $e printed '${sum[$e]:-nothing}', ironpc '${sum[ironpc]}'"
        status=1
    fi
done
[ $status = 0 ] && echo "checksums agree: ${sum[ironpc]}"
for e in "${emus[@]}"; do
    [ "$e" = ironpc ] && continue
    r=$(echo "scale=3; ${raw[ironpc]} / ${raw[$e]}" | bc)
    n=$(echo "scale=3; (${raw[ironpc]} - ${base[ironpc]}) / (${raw[$e]} - ${base[$e]})" | bc)
    c=$(echo "scale=3; (${cpu[ironpc]} - ${cbase[ironpc]}) / (${cpu[$e]} - ${cbase[$e]})" | bc 2>/dev/null || echo "?")
    echo "ironpc / $e wall-time ratio: $r (net of start-up: $n; CPU time, net: $c)"
done
echo
echo "ironpc report:"
cat "$work/ironpc$ROUNDS.out"
exit $status
