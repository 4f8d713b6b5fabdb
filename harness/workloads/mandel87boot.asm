; ironpc "mandel87" boot workload: the Mandelbrot kernel of mandel87.asm
; (x87 doubles, control word 027Fh, 32x32 points, at most 64 iterations)
; run ROUNDS times in flat 32-bit protected mode from a boot sector, so
; that ironpc, QEMU and Bochs run the same guest code
; (`WORKLOAD=mandel87 scripts/compare.sh`).
;
;   nasm -f bin -DROUNDS=200 -I harness/workloads/ -o mandel87boot.img harness/workloads/mandel87boot.asm
;
; Loaded at 0000:7C00, it enters protected mode (no paging), runs the
; kernel ROUNDS times with EDI counting the iterations of every round, then
; prints "mandel87 XXXXXXXX\n" (EDI in hex) on port E9h and ends through
; QEMU's isa-debug-exit port F4h. One round is 21191 iterations (52C7h;
; the ia32_x87 bench prints it), so ROUNDS rounds print 21191 * ROUNDS in
; hex (200 rounds: 0040AB78h). Only masked exceptions arise, so the CR0.NE
; the BIOS left does not matter.

        cpu     686
%include "mandel87_kernel.inc"
        bits    16
        org     0x7C00

%ifndef ROUNDS
%define ROUNDS 200
%endif

start:
        cli
        xor     ax, ax
        mov     ds, ax
        lgdt    [gdt_desc]
        mov     eax, cr0
        and     al, 0xF3                ; EM = TS = 0: the FPU is ours
        or      al, 0x03                ; PE, MP
        mov     cr0, eax
        jmp     0x08:pm32

        bits    32
pm32:
        mov     ax, 0x10
        mov     ds, ax
        mov     es, ax
        mov     ss, ax
        mov     esp, 0x7000
        xor     edi, edi
        mov     ebx, ROUNDS
round:
        fninit
        fldcw   [cw53]                  ; 53-bit precision: doubles
        MANDEL87_POINTS
        dec     ebx
        jnz     round

        mov     esi, banner
.ban:   lodsb
        test    al, al
        jz      .num
        out     0xE9, al
        jmp     .ban
.num:   mov     eax, edi
        mov     ecx, 8
.digit: rol     eax, 4
        push    eax
        and     al, 0x0F
        add     al, '0'
        cmp     al, '9'
        jbe     .out
        add     al, 'A' - '9' - 1
.out:   out     0xE9, al
        pop     eax
        loop    .digit
        mov     al, 10
        out     0xE9, al
        xor     al, al
        out     0xF4, al                ; isa-debug-exit
.halt:  hlt
        jmp     .halt

banner: db      "mandel87 ", 0

        MANDEL87_DATA

        align   8
gdt:
gdt_desc:                               ; the null descriptor holds the GDTR image
        dw      gdt_end - gdt - 1
        dd      gdt
        dw      0
        dq      0x00CF9A000000FFFF      ; 08h: flat 4 GiB code, 32-bit
        dq      0x00CF92000000FFFF      ; 10h: flat 4 GiB data
gdt_end:

        times   510 - ($ - $$) db 0
        dw      0xAA55
