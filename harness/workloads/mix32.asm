; ironpc "mix32" workload: a boot sector that switches a 386 to protected
; mode with paging on and runs a 32-bit mix of instructions, then reports
; two checksums.
;
;   nasm -f bin -DROUNDS=10 -o mix32.img mix32.asm
;
; Loaded at 0000:7C00 (as a BIOS would), it loads a flat GDT, enters
; protected mode, builds a page directory with two page tables (the first
; 4 MiB identity-mapped; linear 400000h-43FFFFh mapped onto physical
; 30000h-6FFFFh, so every buffer access goes through a non-identity
; translation) and turns paging on. Then it runs ROUNDS rounds of:
;   - a sieve of Eratosthenes over 64 KiB (REP STOSD, MUL, byte stores),
;   - a count of the sieve's ones with LODSB (the primes, plus 0 and 1),
;   - a bitmap of the primes built with BTS and scanned with LODSD, BSF,
;     BSR, BT, SETC and MOVZX,
;   - a CRC-32 (poly EDB88320h, the zlib one) over the first 16 KiB of the
;     sieve, bit by bit with SHR/JNC/XOR,
;   - 32-bit MUL/DIV/IMUL/IDIV/SHLD arithmetic through CALL/RET,
;   - REP MOVSD of 64 KiB,
; then prints "mix32 XXXXXXXX YYYYYYYY\n" (two checksum dwords in hex) to
; the debug console port E9h and ends through QEMU's isa-debug-exit port
; F4h. Needs no BIOS services; everything physical lies below 640 KiB.
; workloads/mix32_model.py computes the expected line independently.

        cpu     386
        bits    16
        org     0x7C00

%ifndef ROUNDS
%define ROUNDS 10
%endif

PD          equ 0x20000                 ; page directory
PT0         equ 0x21000                 ; identity map of 0-4 MiB
PT1         equ 0x22000                 ; 4 MiB..: 64 pages onto 30000h
SIEVE       equ 0x400000                ; linear addresses (paged)
BITMAP      equ 0x410000
COPY        equ 0x420000
SIEVE_LEN   equ 65536
VARS        equ 0x9000                  ; EBP points here, away from the code page
SUM_A       equ 0                       ; [ebp + SUM_A]: checksum A
SUM_B       equ 4                       ; checksum B
LEFT        equ 8                       ; rounds left

start:
        cli
        xor     ax, ax
        mov     ds, ax
        lgdt    [gdt_desc]
        mov     eax, cr0
        or      al, 1
        mov     cr0, eax
        jmp     0x08:pm32

        bits    32
pm32:
        mov     ax, 0x10
        mov     ds, ax
        mov     es, ax
        mov     ss, ax
        mov     esp, 0x7C00
        cld
        ; ---- page tables (PD, PT0 and PT1 are contiguous) ----------------------
        mov     edi, PD
        mov     ecx, 3 * 1024
        xor     eax, eax
        rep     stosd
        mov     edi, PT0
        mov     al, 3                   ; present, writable
        mov     ch, 1024 >> 8
.pt0:   stosd
        add     eax, 0x1000
        loop    .pt0
        mov     eax, 0x30003            ; EDI = PT1 now
        mov     cl, 64
.pt1:   stosd
        add     eax, 0x1000
        loop    .pt1
        mov     eax, PD
        mov     dword [eax], PT0 | 3
        mov     dword [eax + 4], PT1 | 3
        mov     cr3, eax
        mov     eax, cr0
        or      eax, 0x80000000
        mov     cr0, eax
        jmp     .paged
.paged:
        mov     ebp, VARS
        xor     eax, eax
        mov     [ebp + SUM_A], eax
        mov     [ebp + SUM_B], eax
        mov     dword [ebp + LEFT], ROUNDS

round:
        ; ---- sieve -------------------------------------------------------------
        mov     edi, SIEVE
        mov     esi, edi
        mov     ecx, SIEVE_LEN / 4
        mov     eax, 0x01010101
        rep     stosd
        mov     ebx, 2
.outer:
        mov     eax, ebx
        mul     ebx                     ; eax = ebx * ebx
        bt      eax, 16                 ; >= SIEVE_LEN (eax < 2 * SIEVE_LEN)
        jc      .sieved
        cmp     byte [esi + ebx], 0
        je      .next
.inner:
        mov     byte [esi + eax], 0
        add     eax, ebx
        bt      eax, 16
        jnc     .inner
.next:
        inc     ebx
        jmp     .outer
.sieved:
        ; ---- count the ones with LODSB -----------------------------------------
        mov     ecx, SIEVE_LEN
        xor     ebx, ebx
        xor     eax, eax
.count:
        lodsb
        add     ebx, eax
        loop    .count
        add     [ebp + SUM_A], ebx      ; 6542 primes below 65536, plus 0 and 1

        ; ---- bitmap: BTS, then LODSD/BSF/BSR/BT/SETC ---------------------------
        mov     ebx, esi                ; ESI = SIEVE + SIEVE_LEN = BITMAP
        mov     edi, esi
        mov     ch, SIEVE_LEN / 32 >> 8
        rep     stosd                   ; EAX is 0 (the last byte was 0)
        mov     esi, SIEVE
.bits:
        cmp     byte [esi + ecx], 0
        je      .nobit
        bts     [ebx], ecx
.nobit:
        inc     ecx
        bt      ecx, 16
        jnc     .bits
        mov     esi, ebx
        shr     ecx, 5                  ; SIEVE_LEN / 32 dwords
        xor     edx, edx
.scan:
        lodsd
        bsf     ebx, eax
        jz      .empty
        add     edx, ebx
        bsr     ebx, eax
        shl     ebx, 8
        add     edx, ebx
        bt      eax, 3
        setc    bl
        movzx   ebx, bl
        add     edx, ebx
        rol     edx, 1
.empty:
        loop    .scan
        xor     [ebp + SUM_B], edx

        ; ---- CRC-32 over the first 16 KiB of the sieve --------------------------
        mov     esi, SIEVE
        mov     ch, 16384 >> 8
        or      eax, -1
.crc_byte:
        xor     al, [esi]
        inc     esi
        mov     bl, 8
.crc_bit:
        shr     eax, 1
        jnc     .no_xor
        xor     eax, 0xEDB88320
.no_xor:
        dec     bl
        jnz     .crc_bit
        loop    .crc_byte
        not     eax
        xor     [ebp + SUM_A], eax

        ; ---- arithmetic through CALL/RET -----------------------------------------
        mov     cx, 1000
.arith:
        call    mixer
        loop    .arith

        ; ---- block copy -----------------------------------------------------------
        mov     esi, SIEVE
        mov     edi, COPY
        mov     ch, SIEVE_LEN / 4 >> 8
        rep     movsd
        mov     eax, [edi - 8]
        add     [ebp + SUM_B], eax
        rol     dword [ebp + SUM_A], 5

        dec     dword [ebp + LEFT]
        jnz     round

finish:
        mov     esi, banner
        push    6
        pop     ecx
.ban:   lodsb
        out     0xE9, al
        loop    .ban
        mov     eax, [ebp + SUM_A]
        call    print_hex
        mov     al, ' '
        out     0xE9, al
        mov     eax, [ebp + SUM_B]
        call    print_hex
        mov     al, 10
        out     0xE9, al
        xor     al, al
        out     0xF4, al                ; isa-debug-exit
.halt:  hlt
        jmp     .halt

; SUM_B = rol(SUM_B ^ f(ecx), 3): multiplies and divides, signed and not.
mixer:
        mov     eax, ecx
        mov     ebx, 0x9E3779B1
        mul     ebx                     ; edx:eax = ecx * 9E3779B1h
        xor     eax, edx
        push    97
        pop     ebx
        xor     edx, edx
        div     ebx                     ; eax = quotient, edx = remainder
        add     eax, edx
        imul    eax, eax, 13
        cdq
        push    -31
        pop     ebx
        idiv    ebx                     ; signed, toward zero
        shld    eax, edx, 7
        xor     [ebp + SUM_B], eax
        rol     dword [ebp + SUM_B], 3
        ret

; Print EAX as eight hex digits to port E9h.
print_hex:
        push    8
        pop     ecx
.digit:
        rol     eax, 4
        push    eax
        and     al, 0x0F
        add     al, '0'
        cmp     al, '9'
        jbe     .out
        add     al, 'A' - '9' - 1
.out:
        out     0xE9, al
        pop     eax
        loop    .digit
        ret

banner: db      "mix32 "

; The null descriptor's slot holds the GDTR image (the CPU never reads it).
gdt:
gdt_desc:
        dw      gdt_end - gdt - 1
        dd      gdt
        dw      0
        dq      0x00CF9A000000FFFF      ; 08h: flat 4 GiB code, 32-bit
        dq      0x00CF92000000FFFF      ; 10h: flat 4 GiB data
gdt_end:

        times   510 - ($ - $$) db 0
        dw      0xAA55
