#!/usr/bin/env python3
"""An independent model of mix32.asm's arithmetic: prints the line the
workload must print for ROUNDS rounds (default 10). Used to derive the
expected checksums in the tests without trusting the emulator. The CRC-32 is
zlib's, so that part is checked against a third implementation too."""
import sys
import zlib

M = 0xFFFFFFFF
N = 65536


def rol(v, n):
    return ((v << n) | (v >> (32 - n))) & M


def mixer(ecx):
    p = ecx * 0x9E3779B1
    eax = (p & M) ^ (p >> 32)
    q, r = divmod(eax, 97)
    eax = (q + r) * 13 & M
    s = eax - (1 << 32) if eax >> 31 else eax
    # IDIV truncates toward zero; the remainder takes the dividend's sign.
    q = abs(s) // 31 * (-1 if s > 0 else 1)
    r = s - q * -31
    eax, edx = q & M, r & M
    return ((eax << 7) | (edx >> 25)) & M


def run(rounds):
    sa = sb = 0
    for _ in range(rounds):
        sieve = [1] * N
        b = 2
        while b * b < N:
            if sieve[b]:
                for i in range(b * b, N, b):
                    sieve[i] = 0
            b += 1
        sa = (sa + sum(sieve)) & M
        edx = 0
        for w in range(N // 32):
            d = sum(sieve[w * 32 + k] << k for k in range(32))
            if d:
                bsf = (d & -d).bit_length() - 1
                bsr = d.bit_length() - 1
                edx = (edx + bsf + (bsr << 8) + ((d >> 3) & 1)) & M
                edx = rol(edx, 1)
        sb ^= edx
        sa ^= zlib.crc32(bytes(sieve[:16384]))
        for ecx in range(1000, 0, -1):
            sb = rol(sb ^ mixer(ecx), 3)
        sb = (sb + int.from_bytes(bytes(sieve[N - 8:N - 4]), "little")) & M
        sa = rol(sa, 5)
    return "mix32 %08X %08X" % (sa, sb)


if __name__ == "__main__":
    print(run(int(sys.argv[1]) if len(sys.argv) > 1 else 10))
