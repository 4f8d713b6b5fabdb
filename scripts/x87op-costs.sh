#!/bin/sh
# The marginal cost of one x87 instruction on the ia32 core's fast path, in
# host instructions beyond an integer register instruction's (`mov eax,eax`),
# from callgrind: harness/workloads/x87opboot.asm with each OP against OP=0.
# Usage: scripts/x87op-costs.sh [ironpc binary] (default target/quick/ironpc).
# ROUNDS (default 2000) and COPIES (20) as in the workload.
set -eu
BIN=${1:-target/quick/ironpc}
ROUNDS=${ROUNDS:-2000}
COPIES=${COPIES:-20}
DIR=$(mktemp -d /tmp/x87op.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
HERE=$(dirname "$0")/..
NAMES="mov_eax_eax fld_sti+fstp_st0 fxch_st1 fadd_st0,sti fmul_st0,sti fadd_m64 fmul_m64
fld_m64+fstp_st0 fst_m64 fld_m64+fstp_m64 fild_m32+fstp_st0 fist_m32 fld_m32+fstp_st0
fadd_m32 fucom_st1 fcom_m64 fadd_sti,st0 faddp+fld_m64 fnstsw_ax fldz+fstp_st0"
count() {
    nasm -f bin -DOP="$1" -DROUNDS="$ROUNDS" -DCOPIES="$COPIES" \
        -o "$DIR/w.bin" "$HERE/harness/workloads/x87opboot.asm"
    valgrind --tool=callgrind --callgrind-out-file="$DIR/cg.out" \
        "$BIN" bench --timing fast --rounds 1 --cpu pentium-pro "$DIR/w.bin" \
        >"$DIR/out" 2>"$DIR/err"
    grep -aq "x87op" "$DIR/out" || { echo "OP=$1: no output" >&2; exit 1; }
    sed -n 's/.*Collected : //p' "$DIR/err"
}
base=$(count 0)
n=$((ROUNDS * COPIES))
printf '%-20s %14s %10s\n' kind host_insns per_copy
printf '%-20s %14s %10s\n' mov_eax_eax "$base" "-"
op=1
for name in $(echo "$NAMES" | tr ' ' '\n' | tail -n +2); do
    c=$(count $op)
    printf '%-20s %14s %10.1f\n' "$name" "$c" "$(echo "($c - $base) / $n" | bc -l)"
    op=$((op + 1))
done
