; A boot sector that computes with an 8087 on a PC/XT and prints what it
; finds on the debug console (port E9h), then exits through port F4h.
; harness/tests/x87_xt.rs boots it under GLaBIOS (test-suites/machines/
; xt-8087.yaml) and checks every line against values worked out by hand.
;
;   nasm -f bin -o fpu87boot.bin harness/workloads/fpu87boot.asm
;
; Lines:
;   equip=N     bit 1 of the BIOS equipment word (INT 11h): 8087 present
;   cw=XXXX     control word after FNINIT
;   sqrt2=...   sqrt(2) stored as a double (8 bytes, most significant first)
;   pi=XXXX     355/113 * 10000 stored by FISTP (round to nearest)
;   nmi=N sw=XXXX  1/0 with the zero-divide exception unmasked and the
;               8087's interrupts enabled (FENI): the NMI handler's count
;               and the status word it saw (bit 15, the busy bit, masked)

        cpu     8086
        org     7C00h

start:
        cli
        xor     ax, ax
        mov     ds, ax
        mov     es, ax
        mov     ss, ax
        mov     sp, 7C00h
        mov     word [2*4], nmi_handler
        mov     word [2*4+2], ax
        sti

        mov     si, s_equip
        call    puts
        int     11h
        shr     ax, 1
        and     al, 1
        add     al, '0'
        call    putc
        call    newline

        fninit
        fnstcw  [cw]
        mov     si, s_cw
        call    puts
        mov     ax, [cw]
        call    hex16
        call    newline

        ; sqrt(2) rounded to a double.
        fld1
        fadd    st0, st0
        fsqrt
        fstp    qword [result]
        fwait
        mov     si, s_sqrt
        call    puts
        mov     bx, result + 6
        mov     cx, 4
.q:     mov     ax, [bx]
        call    hex16
        sub     bx, 2
        loop    .q
        call    newline

        ; 355/113 * 10000, rounded to an integer.
        fild    word [n355]
        fidiv   word [n113]
        fimul   word [n10000]
        fistp   word [pi]
        fwait
        mov     si, s_pi
        call    puts
        mov     ax, [pi]
        call    hex16
        call    newline

        ; Unmask ZE, enable the 8087's interrupt (FENI) and NMIs (port A0h),
        ; then divide 1 by 0.
        mov     al, 80h
        out     0A0h, al
        fldcw   [cw_ze]
        feni
        fldz
        fld1
        fdiv    st0, st1
        fwait
        nop
        nop
        mov     si, s_nmi
        call    puts
        mov     al, [nmis]
        add     al, '0'
        call    putc
        mov     si, s_sw
        call    puts
        mov     ax, [sw]
        and     ax, 7FFFh
        call    hex16
        call    newline

        mov     al, 0
        out     0F4h, al
        cli
.halt:  hlt
        jmp     .halt

nmi_handler:
        push    ax
        fnstsw  [sw]
        fnclex
        inc     byte [nmis]
        pop     ax
        iret

; ---- output --------------------------------------------------------------
putc:   out     0E9h, al
        ret

newline:
        mov     al, 10
        jmp     putc

puts:   lodsb
        test    al, al
        jz      .done
        call    putc
        jmp     puts
.done:  ret

hex16:  push    cx
        mov     cx, 4
.d:     rol     ax, 1
        rol     ax, 1
        rol     ax, 1
        rol     ax, 1
        push    ax
        and     al, 0Fh
        add     al, '0'
        cmp     al, '9'
        jbe     .p
        add     al, 7
.p:     call    putc
        pop     ax
        dec     cx
        jnz     .d
        pop     cx
        ret

s_equip: db "equip=", 0
s_cw:    db "cw=", 0
s_sqrt:  db "sqrt2=", 0
s_pi:    db "pi=", 0
s_nmi:   db "nmi=", 0
s_sw:    db " sw=", 0
n355:    dw 355
n113:    dw 113
n10000:  dw 10000
cw_ze:   dw 037Bh           ; 0x03FF with ZE (bit 2) and IEM (bit 7) clear
nmis:    db 0
cw:      dw 0
pi:      dw 0
sw:      dw 0
result:  dq 0

        times 510 - ($ - $$) db 0
        dw      0AA55h
