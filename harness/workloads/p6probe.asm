; p6probe: a 64 KiB ROM that enters 32-bit protected mode and prints, on
; port E9h, what CPUID says, whether RDTSC advances, and a few x87 results
; as raw hex (so two machines can be compared bit for bit). Ends with POST
; FFh on port 190h (ironpc's test board) and a write to port F4h (QEMU's
; isa-debug-exit), then halts.
;
;   nasm -f bin -o p6probe.bin p6probe.asm
;   qemu-system-i386 -cpu pentium2 -bios p6probe.bin -display none \
;       -debugcon stdio -device isa-debug-exit,iobase=0xf4,iosize=1
;
; Written for ironpc; the expected values are derived in
; harness/tests/p6probe.rs.

        cpu     686
        bits    16
        org     0

ROM     equ     0xF0000                 ; where the ROM's last 64 KiB sits below 1 MiB
BUF     equ     0x8000                  ; scratch RAM

start:
        cli
        xor     ax, ax
        mov     ss, ax
        mov     sp, 0x7000
        o32 lgdt [cs:gdtr]
        mov     eax, cr0
        or      al, 1
        mov     cr0, eax
        jmp     dword 0x08:(pm32 + ROM)

        bits    32
pm32:
        mov     ax, 0x10
        mov     ds, ax
        mov     es, ax
        mov     ss, ax
        mov     fs, ax
        mov     gs, ax
        mov     esp, 0x7000

        ; CPUID leaf 0: vendor and highest leaf.
        xor     eax, eax
        cpuid
        mov     [BUF], ebx
        mov     [BUF + 4], edx
        mov     [BUF + 8], ecx
        mov     byte [BUF + 12], 0
        mov     esi, s_vendor + ROM
        call    puts
        mov     esi, BUF
        call    puts
        call    newline

        ; CPUID leaf 1: signature and feature bits.
        mov     eax, 1
        cpuid
        mov     [BUF + 16], edx
        push    eax
        mov     esi, s_sig + ROM
        call    puts
        pop     eax
        call    hex32
        mov     esi, s_edx + ROM
        call    puts
        mov     eax, [BUF + 16]
        call    hex32
        call    newline

        ; RDTSC advances across a loop.
        rdtsc
        mov     ebx, eax
        mov     ecx, 1000
.spin:  loop    .spin
        rdtsc
        sub     eax, ebx
        mov     esi, s_tsc_ok + ROM
        ja      .tsc_ok
        mov     esi, s_tsc_bad + ROM
.tsc_ok:
        call    puts

        ; x87: sqrt(2), pi, 1/3 as doubles.
        fninit
        fld1
        fadd    st0, st0
        fsqrt
        mov     esi, s_sqrt2 + ROM
        call    put_st0

        fldpi
        mov     esi, s_pi + ROM
        call    put_st0

        fld1
        fild    dword [three + ROM]
        fdivp   st1, st0
        mov     esi, s_third + ROM
        call    put_st0

        ; FISTP rounds to nearest even: 7/2 = 3.5 -> 4, 5/2 = 2.5 -> 2.
        fild    dword [seven + ROM]
        fidiv   dword [two + ROM]
        fistp   dword [BUF + 32]
        fild    dword [five + ROM]
        fidiv   dword [two + ROM]
        fistp   dword [BUF + 36]
        mov     esi, s_round + ROM
        call    puts
        mov     eax, [BUF + 32]
        call    hex32
        mov     al, ' '
        out     0xE9, al
        mov     eax, [BUF + 36]
        call    hex32
        call    newline

        ; FBSTP of 12345678: packed BCD 78 56 34 12 00 ...
        fild    dword [bcdval + ROM]
        fbstp   [BUF + 48]
        mov     esi, s_bcd + ROM
        call    puts
        mov     eax, [BUF + 48]
        call    hex32
        call    newline

        ; 1/0 with ZE masked: +inf, status word with ZE.
        fninit
        fld1
        fldz
        fdivp   st1, st0
        fnstsw  ax
        movzx   eax, ax
        push    eax
        mov     esi, s_sw + ROM
        call    puts
        pop     eax
        call    hex32
        call    newline
        mov     esi, s_inf + ROM
        call    put_st0

        ; sin(1) and atan(1) (compared with QEMU; not bit-exact by design).
        fld1
        fsin
        mov     esi, s_sin + ROM
        call    put_st0
        fld1
        fld1
        fpatan
        mov     esi, s_atan + ROM
        call    put_st0

        ; P6 only (CPUID CMOV bit): CMOVcc and FCOMI.
        test    dword [BUF + 16], 1 << 15
        jz      .no_p6
        mov     eax, 1
        mov     ebx, 2
        cmp     eax, ebx
        cmovb   eax, ebx                ; 1 < 2: EAX = 2
        mov     ecx, 3
        cmova   eax, ecx                ; not above: EAX stays 2
        fld1
        fldz
        fcomip  st0, st1                ; 0 < 1: CF=1, ZF=0, PF=0
        fstp    st0
        pushfd
        pop     ebx
        and     ebx, 0x45
        shl     eax, 8
        or      eax, ebx
        push    eax
        mov     esi, s_p6 + ROM
        call    puts
        pop     eax
        call    hex32
        call    newline
.no_p6:
        ; CMPXCHG8B (CX8, Pentium and later).
        mov     dword [BUF + 64], 0x11112222
        mov     dword [BUF + 68], 0x33334444
        mov     eax, 0x11112222
        mov     edx, 0x33334444
        mov     ebx, 0x55556666
        mov     ecx, 0x77778888
        cmpxchg8b [BUF + 64]
        mov     esi, s_cx8 + ROM
        call    puts
        mov     eax, [BUF + 68]
        call    hex32
        mov     eax, [BUF + 64]
        call    hex32
        call    newline

        mov     esi, s_done + ROM
        call    puts
        mov     al, 0xFF
        mov     dx, 0x190
        out     dx, al
        out     0xF4, al
.halt:  hlt
        jmp     .halt

; Store ST0 as a double, pop it, print label (ESI) and the 16 hex digits.
put_st0:
        fstp    qword [BUF + 24]
        call    puts
        mov     eax, [BUF + 28]
        call    hex32
        mov     eax, [BUF + 24]
        call    hex32
        jmp     newline

; Print the zero-terminated string at ESI (clobbers AL and ESI).
puts:
        mov     al, [esi]
        test    al, al
        jz      .e
        out     0xE9, al
        inc     esi
        jmp     puts
.e:     ret

newline:
        mov     al, 10
        out     0xE9, al
        ret

; Print EAX as eight hex digits.
hex32:
        push    ecx
        push    edx
        mov     edx, eax
        mov     ecx, 8
.d:     rol     edx, 4
        mov     al, dl
        and     al, 15
        add     al, '0'
        cmp     al, '9'
        jbe     .o
        add     al, 'A' - '9' - 1
.o:     out     0xE9, al
        loop    .d
        pop     edx
        pop     ecx
        ret

three:  dd      3
seven:  dd      7
five:   dd      5
two:    dd      2
bcdval: dd      12345678

s_vendor: db "vendor=", 0
s_sig:    db "sig=", 0
s_edx:    db " edx=", 0
s_tsc_ok: db "tsc advances", 10, 0
s_tsc_bad: db "tsc stuck", 10, 0
s_sqrt2:  db "sqrt2=", 0
s_pi:     db "pi=", 0
s_third:  db "third=", 0
s_round:  db "round=", 0
s_bcd:    db "bcd=", 0
s_sw:     db "sw=", 0
s_inf:    db "inf=", 0
s_sin:    db "sin1=", 0
s_atan:   db "atan1=", 0
s_p6:     db "p6=", 0
s_cx8:    db "cx8=", 0
s_done:   db "done", 10, 0

        align   8
gdt:    dq      0
        dq      0x00CF9B000000FFFF      ; 08h: flat 32-bit code
        dq      0x00CF93000000FFFF      ; 10h: flat data
gdtr:   dw      gdtr - gdt - 1
        dd      gdt + ROM

        times   0xFFF0 - ($ - $$) db 0xF4
        bits    16
reset:  jmp     0xF000:start
        times   0x10000 - ($ - $$) db 0xF4
