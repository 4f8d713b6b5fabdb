#!/usr/bin/env python3
"""An independent model of mix.asm's arithmetic: prints the line the workload
must print for ROUNDS rounds (default 20). Used to derive the expected
checksums in the tests without trusting the emulator."""
import sys


def run(rounds):
    dx = 0
    sb = 0
    for _ in range(rounds):
        buf = [1] * 8192
        bx = 2
        while (bx * bx) & 0xFFFF < 8192:
            if buf[bx]:
                for di in range(bx * bx, 8192, bx):
                    buf[di] = 0
            bx += 1
        dx = (dx + sum(buf[2:8192])) & 0xFFFF
        crc = 0xFFFF
        for b in buf[:4096]:
            crc ^= b
            for _ in range(8):
                carry = crc & 1
                crc >>= 1
                if carry:
                    crc ^= 0xA001
        dx ^= crc
        for cx in range(200, 0, -1):
            p = cx * 2654
            a = (p // 97 + p % 97) & 0xFFFF
            a = (a & 0xFF) * 13
            a = ((a % 31) << 8) | (a // 31)
            sb ^= a
            sb = ((sb << 1) | (sb >> 15)) & 0xFFFF
        sb = (sb + (buf[8190] | (buf[8191] << 8))) & 0xFFFF
    return "mix %04X %04X" % (dx, sb)


if __name__ == "__main__":
    print(run(int(sys.argv[1]) if len(sys.argv) > 1 else 20))
