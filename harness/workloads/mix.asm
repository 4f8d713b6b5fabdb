; ironpc "mix" workload: an 8086-only boot sector that exercises a spread of
; instructions and reports a checksum.
;
;   nasm -f bin -DROUNDS=20 -o mix.img mix.asm
;
; Loaded at 0000:7C00 (as a BIOS would), it runs ROUNDS rounds of:
;   - a sieve of Eratosthenes over 8 KiB (REP STOSW, MUL, byte compares),
;   - a prime count with LODSB,
;   - a CRC-16 style shift/XOR loop over the sieve,
;   - MUL/DIV arithmetic and CALL/RET,
;   - REP MOVSW of 16 KiB,
; then prints "mix XXXX YYYY\n" (two checksum words in hex) to the Bochs/QEMU
; debug console port E9h and ends through QEMU's isa-debug-exit port F4h.
; Needs no BIOS services.

        cpu     8086
        bits    16
        org     0x7C00

%ifndef ROUNDS
%define ROUNDS 20
%endif

SIEVE_SEG   equ 0x1000
COPY_SEG    equ 0x2000
SIEVE_LEN   equ 8192

start:
        cli
        xor     ax, ax
        mov     ds, ax
        mov     ss, ax
        mov     sp, 0x7C00
        mov     bp, ROUNDS
        xor     dx, dx                  ; checksum A
        xor     si, si
        mov     [sum_b], si             ; checksum B

round:
        ; ---- sieve ------------------------------------------------------
        mov     ax, SIEVE_SEG
        mov     es, ax
        xor     di, di
        mov     cx, SIEVE_LEN / 2
        mov     ax, 0x0101
        cld
        rep     stosw
        mov     bx, 2
.outer:
        mov     ax, bx
        push    dx
        mul     bx                      ; ax = bx * bx
        pop     dx
        cmp     ax, SIEVE_LEN
        jae     .done
        cmp     byte [es:bx], 0
        je      .next
        mov     di, ax
.inner:
        mov     byte [es:di], 0
        add     di, bx
        cmp     di, SIEVE_LEN
        jb      .inner
.next:
        inc     bx
        jmp     .outer
.done:
        ; ---- count primes with LODSB -------------------------------------
        push    ds
        push    es
        pop     ds
        mov     si, 2
        mov     cx, SIEVE_LEN - 2
        xor     bx, bx
.count:
        lodsb
        add     bl, al
        adc     bh, 0
        loop    .count
        pop     ds
        add     dx, bx                  ; 1028 primes below 8192

        ; ---- CRC-16 (poly A001h) over the sieve ----------------------------
        push    ds
        push    es
        pop     ds
        xor     si, si
        mov     cx, SIEVE_LEN / 2
        mov     ax, 0xFFFF
.crc_byte:
        xor     al, [si]
        inc     si
        mov     bl, 8
.crc_bit:
        shr     ax, 1
        jnc     .no_xor
        xor     ax, 0xA001
.no_xor:
        dec     bl
        jnz     .crc_bit
        loop    .crc_byte
        pop     ds
        xor     dx, ax

        ; ---- arithmetic through CALL/RET ---------------------------------------
        mov     cx, 200
.arith:
        call    mixer
        loop    .arith

        ; ---- block copy --------------------------------------------------------
        push    ds
        mov     ax, SIEVE_SEG
        mov     ds, ax
        mov     ax, COPY_SEG
        mov     es, ax
        xor     si, si
        xor     di, di
        mov     cx, 8192                ; 16 KiB
        rep     movsw
        pop     ds
        mov     ax, [es:SIEVE_LEN - 2]
        add     [sum_b], ax

        dec     bp
        jz      finish
        jmp     round

finish:
        mov     al, 'm'
        out     0xE9, al
        mov     al, 'i'
        out     0xE9, al
        mov     al, 'x'
        out     0xE9, al
        mov     al, ' '
        out     0xE9, al
        mov     ax, dx
        call    print_hex
        mov     al, ' '
        out     0xE9, al
        mov     ax, [sum_b]
        call    print_hex
        mov     al, 10
        out     0xE9, al
        xor     al, al
        out     0xF4, al                ; isa-debug-exit
        hlt
        jmp     finish

; ax = f(ax, cx): a few multiplies and divides folded into checksum B.
mixer:
        push    dx
        mov     ax, cx
        mov     bx, 2654
        mul     bx                      ; dx:ax = cx * 2654
        mov     bx, 97
        div     bx                      ; ax = quotient, dx = remainder
        add     ax, dx
        mov     bl, 13
        mul     bl                      ; ax = al * 13
        mov     bl, 31
        div     bl                      ; al = q (at most 106), ah = r
        xor     [sum_b], ax
        rol     word [sum_b], 1
        pop     dx
        ret

; Print AX as four hex digits to port E9h.
print_hex:
        mov     cx, 4
.digit:
        rol     ax, 1
        rol     ax, 1
        rol     ax, 1
        rol     ax, 1
        push    ax
        and     al, 0x0F
        add     al, '0'
        cmp     al, '9'
        jbe     .out
        add     al, 'A' - '9' - 1
.out:
        out     0xE9, al
        pop     ax
        loop    .digit
        ret

sum_b:  dw      0

        times   510 - ($ - $$) db 0
        dw      0xAA55
