; ironpc "mandel87" boot workload: the Mandelbrot kernel of mandel87.asm
; (x87 doubles, control word 027Fh, 32x32 points, at most 64 iterations)
; run ROUNDS times in flat 32-bit protected mode from a boot sector, so
; that ironpc, QEMU and Bochs run the same guest code
; (`WORKLOAD=mandel87 scripts/compare.sh`).
;
;   nasm -f bin -DROUNDS=200 -o mandel87boot.img mandel87boot.asm
;
; Loaded at 0000:7C00, it enters protected mode (no paging), runs the
; kernel ROUNDS times with EDI counting the iterations of every round, then
; prints "mandel87 XXXXXXXX\n" (EDI in hex) on port E9h and ends through
; QEMU's isa-debug-exit port F4h. One round is 21191 iterations (52C7h;
; the ia32_x87 bench prints it), so ROUNDS rounds print 21191 * ROUNDS in
; hex (200 rounds: 0040AB78h). Only masked exceptions arise, so the CR0.NE
; the BIOS left does not matter.

        cpu     686
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
        xor     ebp, ebp                ; row j
row:    xor     esi, esi                ; column i
col:    mov     [tmp], esi
        fild    dword [tmp]
        fmul    qword [step]
        fadd    qword [xmin]
        fstp    qword [cr]
        mov     [tmp], ebp
        fild    dword [tmp]
        fmul    qword [step]
        fadd    qword [ymin]
        fstp    qword [ci]
        fldz                            ; zi
        fldz                            ; zr zi
        mov     ecx, 64
iter:   fld     st0                     ; zr zr zi
        fmul    st0, st0                ; zr2 zr zi
        fld     st2                     ; zi zr2 zr zi
        fmul    st0, st0                ; zi2 zr2 zr zi
        fld     st0
        fadd    st0, st2                ; |z|^2 zi2 zr2 zr zi
        fcomp   qword [four]
        fnstsw  ax
        sahf
        ja      escape
        fsubp   st1, st0                ; zr2-zi2 zr zi
        fadd    qword [cr]              ; nzr zr zi
        fxch    st1                     ; zr nzr zi
        fmulp   st2, st0                ; nzr zr*zi
        fxch    st1
        fadd    st0, st0
        fadd    qword [ci]              ; nzi nzr
        fxch    st1                     ; nzr nzi
        inc     edi
        dec     ecx
        jnz     iter
        jmp     point
escape: fstp    st0
        fstp    st0
point:  fstp    st0
        fstp    st0
        inc     esi
        cmp     esi, 32
        jb      col
        inc     ebp
        cmp     ebp, 32
        jb      row
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

        align   8
xmin:   dq      -2.0
ymin:   dq      -1.25
step:   dq      0.078125                ; 2.5 / 32
four:   dq      4.0
cr:     dq      0
ci:     dq      0
tmp:    dd      0
cw53:   dw      0x027F

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
