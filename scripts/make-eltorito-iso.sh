#!/usr/bin/env bash
# Build an El Torito bootable ISO 9660 image whose boot image is the shared
# FreeDOS 1.44 MB floppy, in floppy emulation (the BIOS maps the image as
# drive A: and boots it). No root needed.
#
#   scripts/make-eltorito-iso.sh OUT.iso [FLOPPY.img]
#
# FLOPPY defaults to $IRONPC_SHARED/images/floppy/freedos-1440k.img
# (IRONPC_SHARED defaults to ../shared beside the repository).
#
# The ISO also carries the floppy's files in its root, so a booted system
# can read them from the CD. Needs xorriso (Debian package xorriso);
# genisoimage is used when xorriso is missing.
set -euo pipefail

die() { echo "make-eltorito-iso: $*" >&2; exit 1; }

[ $# -ge 1 ] || die "usage: $0 OUT.iso [FLOPPY.img]"
out=$1
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${IRONPC_SHARED:-$root/../shared}
floppy=${2:-$shared/images/floppy/freedos-1440k.img}
[ -f "$floppy" ] || die "FreeDOS floppy not found: $floppy (set IRONPC_SHARED)"
[ "$(stat -c %s "$floppy")" = 1474560 ] || die "$floppy is not a 1.44 MB floppy image (1474560 bytes)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/root/boot"
cp "$floppy" "$tmp/root/boot/floppy.img"
if command -v mcopy >/dev/null; then
    MTOOLS_SKIP_CHECK=1 mcopy -i "$floppy" ::KERNEL.SYS ::COMMAND.COM ::README.TXT "$tmp/root/" 2>/dev/null || true
fi

# A 1,474,560-byte boot image with neither -no-emul-boot nor -hard-disk-boot
# is recorded as 1.44 MB floppy emulation (boot media type 2).
opts=(-quiet -V FREEDOS_CD -J -R -b boot/floppy.img -c boot/boot.cat -o "$tmp/out.iso" "$tmp/root")
if command -v xorriso >/dev/null; then
    xorriso -as mkisofs "${opts[@]}" 2>"$tmp/log" || { cat "$tmp/log" >&2; die "xorriso failed"; }
elif command -v genisoimage >/dev/null; then
    genisoimage "${opts[@]}" 2>"$tmp/log" || { cat "$tmp/log" >&2; die "genisoimage failed"; }
else
    die "neither xorriso nor genisoimage found (apt-get install xorriso)"
fi
mv "$tmp/out.iso" "$out"
echo "make-eltorito-iso: wrote $out (El Torito, 1.44 MB floppy emulation)"
