; x87opboot.asm: what one x87 instruction costs the emulator (issue 16,
; docs/performance.md "x87op"). A boot sector that switches to flat 32-bit
; protected mode, sets the double-precision control word (027Fh), loads a
; small stack of doubles (with PE already set, as in any loop over
; doubles) and then runs ROUNDS times a loop whose body is
; COPIES copies of one instruction (or one pair of instructions that leave
; the stack as it was), chosen with -DOP=n:
;
;   0  mov eax, eax             (the integer baseline)
;   1  fld st1 / fstp st0       (a push and a pop of a double)
;   2  fxch st1
;   3  fadd st0, st1            (st1 = 1.0)
;   4  fmul st0, st1            (a double times 1.0)
;   5  fadd qword [one]
;   6  fmul qword [one]
;   7  fld qword [x] / fstp st0
;   8  fst qword [y]
;   9  fld qword [x] / fstp qword [y]
;  10  fild dword [n] / fstp st0
;  11  fist dword [m]
;  12  fld dword [s] / fstp st0
;  13  fadd dword [s]           (a single, 1.0)
;  14  fucom st1
;  15  fcom qword [x]
;  16  fadd st1, st0            (DC form, destination ST(i))
;  17  faddp st1, st0 / fld qword [one] (a popping arithmetic form and a push)
;  18  fnstsw ax
;  19  fldz / fstp st0
;
; Measured as host instructions under callgrind, (count(OP=n) −
; count(OP=0)) / (ROUNDS × COPIES) is the instruction's cost beyond an
; integer register instruction's (a pair's for the pairs). Prints
; "x87op" on port E9.
;
;   nasm -f bin -DOP=3 -DROUNDS=2000 -o /tmp/x.bin harness/workloads/x87opboot.asm
;   valgrind --tool=callgrind ironpc bench --timing fast --rounds 1 --cpu pentium-pro /tmp/x.bin

        cpu     686
        bits    16
        org     0x7C00

%ifndef ROUNDS
%define ROUNDS 2000
%endif
%ifndef COPIES
%define COPIES 20
%endif
%ifndef OP
%define OP 0
%endif

start:
        cli
        xor     ax, ax
        mov     ds, ax
        lgdt    [gdt_desc]
        mov     eax, cr0
        and     al, 0xF3                ; EM = TS = 0
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
        fninit
        fldcw   [cw53]
        fld     qword [tenth]           ; PE set (0.1 × 1.5 is inexact), as
        fmul    qword [x]               ; in any loop over doubles: the lean
        fstp    st0                     ; forms' common case
        fld     qword [one]             ; st2 = 1.0
        fld     qword [one]             ; st1 = 1.0
        fld     qword [x]               ; st0 = 1.5
%if OP == 17
        fld     qword [one]             ; st0 = 1.0, st1 = 1.5
%endif
        mov     ebx, ROUNDS
round:
%rep COPIES
%if OP == 0
        mov     eax, eax
%elif OP == 1
        fld     st1
        fstp    st0
%elif OP == 2
        fxch    st1
%elif OP == 3
        fadd    st0, st1
%elif OP == 4
        fmul    st0, st1
%elif OP == 5
        fadd    qword [one]
%elif OP == 6
        fmul    qword [one]
%elif OP == 7
        fld     qword [x]
        fstp    st0
%elif OP == 8
        fst     qword [y]
%elif OP == 9
        fld     qword [x]
        fstp    qword [y]
%elif OP == 10
        fild    dword [n]
        fstp    st0
%elif OP == 11
        fist    dword [m]
%elif OP == 12
        fld     dword [s]
        fstp    st0
%elif OP == 13
        fadd    dword [s]
%elif OP == 14
        fucom   st1
%elif OP == 15
        fcom    qword [x]
%elif OP == 16
        fadd    st1, st0
%elif OP == 17
        faddp   st1, st0
        fld     qword [one]
%elif OP == 18
        fnstsw  ax
%elif OP == 19
        fldz
        fstp    st0
%endif
%endrep
        inc     edi
        dec     ebx
        jnz     round

        mov     esi, banner
.ban:   lodsb
        out     0xE9, al
        test    al, al
        jnz     .ban
        mov     al, 10
        out     0xE9, al
        xor     al, al
        out     0xF4, al                ; isa-debug-exit
.halt:  hlt
        jmp     .halt

banner: db      "x87op", 0

        align   64                      ; the data on a line of its own,
                                        ; away from the code (stores to it
                                        ; do not end the code epoch)
x:      dq      1.5
tenth:  dq      0.1
one:    dq      1.0
y:      dq      0
n:      dd      3
m:      dd      0
s:      dd      1.0
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
