#!/usr/bin/env bash
# Build a bootable, partitioned FreeDOS hard-disk image from the files of the
# shared FreeDOS 1.44 MB boot floppy. No root needed.
#
#   scripts/make-freedos-hdd.sh OUT.img [FLOPPY.img]
#
# FLOPPY defaults to $IRONPC_SHARED/images/floppy/freedos-1440k.img
# (IRONPC_SHARED defaults to ../shared beside the repository).
#
# Layout (docs/storage.md): 32 cylinders x 16 heads x 63 sectors (16,515,072
# bytes, the geometry ironpc's IDENTIFY reports for this size); one active
# FAT12 partition (type 01h) from sector 63 to the end, 4 KiB clusters.
#
# System transfer: FAT12, because the only FreeDOS boot sector at hand is
# the floppy's, and it is FAT12 code (it decodes 12-bit FAT entries). That
# code reads the drive number from BPB offset 24h (FFh: take DL from the
# BIOS) and adds the BPB's hidden sectors to every LBA, so it boots from a
# partition once placed over a BPB written for the partition: the script
# keeps mkfs.fat's BPB (bytes 3-61) and takes the jump (0-2) and the code
# (62-511) from the floppy. The MBR code is SYSLINUX's generic mbr.bin
# (Debian package syslinux-common), which loads the active partition's boot
# sector. The kernel is copied first, then COMMAND.COM and the rest;
# CONFIG.SYS's SHELL line is pointed at C:.
#
# Needs: mtools, dosfstools (mkfs.fat), fdisk (sfdisk), syslinux-common.
set -euo pipefail

die() { echo "make-freedos-hdd: $*" >&2; exit 1; }

[ $# -ge 1 ] || die "usage: $0 OUT.img [FLOPPY.img]"
out=$1
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${IRONPC_SHARED:-$root/../shared}
floppy=${2:-$shared/images/floppy/freedos-1440k.img}
[ -f "$floppy" ] || die "FreeDOS floppy not found: $floppy (set IRONPC_SHARED)"
for t in mcopy mtype mkfs.fat sfdisk; do
    command -v "$t" >/dev/null || die "$t not found (apt-get install mtools dosfstools fdisk)"
done
mbr=""
for m in /usr/lib/syslinux/mbr/mbr.bin /usr/share/syslinux/mbr.bin /usr/lib/SYSLINUX/mbr.bin; do
    [ -f "$m" ] && { mbr=$m; break; }
done
[ -n "$mbr" ] || die "SYSLINUX mbr.bin not found (apt-get install syslinux-common)"

heads=16 spt=63 cyls=32
total=$((cyls * heads * spt))
start=$spt
size=$((total - start))

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The disk: zeros, the MBR code, one active FAT12 partition.
truncate -s $((total * 512)) "$tmp/disk.img"
dd if="$mbr" of="$tmp/disk.img" bs=440 count=1 conv=notrunc status=none
printf 'label: dos\nlabel-id: 0x1de5c0de\nunit: sectors\n\nstart=%d, size=%d, type=1, bootable\n' "$start" "$size" \
    | sfdisk --no-reread --no-tell-kernel -q "$tmp/disk.img" >/dev/null

# The file system, made apart and placed at the partition's start.
truncate -s $((size * 512)) "$tmp/part.img"
mkfs.fat -F 12 -s 8 -h "$start" -g "$heads/$spt" -D 0x80 -M 0xF8 -n FREEDOS \
    -i 1DE5C0DE "$tmp/part.img" >/dev/null

# System transfer: the floppy's boot code over the partition's BPB.
dd if="$floppy" of="$tmp/part.img" bs=1 count=3 conv=notrunc status=none
dd if="$floppy" of="$tmp/part.img" bs=1 skip=62 seek=62 count=450 conv=notrunc status=none
# Drive number FFh: use the drive the BIOS boots from (DL).
printf '\xff' | dd of="$tmp/part.img" bs=1 seek=$((0x24)) conv=notrunc status=none

export MTOOLS_SKIP_CHECK=1
mcopy -i "$floppy" ::KERNEL.SYS "$tmp/KERNEL.SYS"
mcopy -i "$floppy" ::COMMAND.COM "$tmp/COMMAND.COM"
mcopy -i "$floppy" ::AUTOEXEC.BAT "$tmp/AUTOEXEC.BAT"
mtype -i "$floppy" ::CONFIG.SYS | sed 's/A:\\/C:\\/g' > "$tmp/CONFIG.SYS"
for f in KERNEL.SYS COMMAND.COM CONFIG.SYS AUTOEXEC.BAT; do
    mcopy -i "$tmp/part.img" "$tmp/$f" "::$f"
done
mattrib -i "$tmp/part.img" +s +h ::KERNEL.SYS

dd if="$tmp/part.img" of="$tmp/disk.img" bs=512 seek="$start" conv=notrunc status=none
mv "$tmp/disk.img" "$out"
echo "make-freedos-hdd: wrote $out ($cyls/$heads/$spt, FAT12 partition at sector $start)"
