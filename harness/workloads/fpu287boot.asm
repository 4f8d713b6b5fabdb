; A boot sector that computes with an 80287/80387 on an AT and prints what
; it finds on the debug console (port E9h), then exits through port F4h.
; harness/tests/x87_at.rs runs it on test-suites/machines/at-286.yaml
; (started directly at 0000:7C00: the Bochs BIOS needs a 386) and boots it
; under the Bochs BIOS on at-386-387.yaml, and checks every line against
; values worked out by hand. It needs no BIOS service: it programs both
; 8259s itself (vectors 08h and 70h, as the AT BIOS does).
;
;   nasm -f bin -o fpu287boot.bin harness/workloads/fpu287boot.asm
;
; Lines:
;   cmos=N      bit 1 of CMOS byte 14h (equipment): coprocessor installed
;   cw=XXXX     control word after FNINIT
;   sqrt2=...   sqrt(2) stored as a double (8 bytes, most significant first)
;   pi=XXXX     355/113 * 10000 stored by FISTP (round to nearest)
;   irq13=N sw=XXXX XXXX
;               1/0 twice with the zero-divide exception unmasked: the
;               IRQ 13 handler's count and the status word it saw each time
;               (bit 15, the busy bit, masked). The handler clears the
;               exception (FNCLEX) and the busy latch (port F0h); without
;               the F0h write the second error would find IRQ 13 still
;               raised and give no second interrupt.

        cpu     286
        org     7C00h

start:
        cli
        xor     ax, ax
        mov     ds, ax
        mov     es, ax
        mov     ss, ax
        mov     sp, 7C00h
        mov     word [75h*4], irq13_handler
        mov     word [75h*4+2], ax

        ; Both 8259s: edge triggered, cascaded, 8086 mode; only IRQ 2 (the
        ; cascade) on the master and IRQ 13 on the slave unmasked.
        mov     al, 11h
        out     20h, al
        out     0A0h, al
        mov     al, 08h
        out     21h, al
        mov     al, 70h
        out     0A1h, al
        mov     al, 04h
        out     21h, al
        mov     al, 02h
        out     0A1h, al
        mov     al, 01h
        out     21h, al
        out     0A1h, al
        mov     al, 0FBh
        out     21h, al
        mov     al, 0DFh
        out     0A1h, al
        sti

        mov     si, s_cmos
        call    puts
        mov     al, 14h
        out     70h, al
        in      al, 71h
        shr     al, 1
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

        ; Unmask ZE and divide 1 by 0, twice.
        fldcw   [cw_ze]
        fldz
        fld1
        fdiv    st0, st1
        fwait
        nop
        nop
        fdiv    st0, st1
        fwait
        nop
        nop
        mov     si, s_irq
        call    puts
        mov     al, [irqs]
        add     al, '0'
        call    putc
        mov     si, s_sw
        call    puts
        mov     ax, [sws]
        and     ax, 7FFFh
        call    hex16
        mov     al, ' '
        call    putc
        mov     ax, [sws + 2]
        and     ax, 7FFFh
        call    hex16
        call    newline

        mov     al, 0
        out     0F4h, al
        cli
.halt:  hlt
        jmp     .halt

irq13_handler:
        push    ax
        push    bx
        mov     bl, [irqs]
        and     bx, 1
        shl     bx, 1
        fnstsw  [sws + bx]
        fnclex
        xor     al, al
        out     0F0h, al                ; clear the busy latch and IRQ 13
        mov     al, 20h
        out     0A0h, al
        out     20h, al
        inc     byte [irqs]
        pop     bx
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
.d:     rol     ax, 4
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

s_cmos:  db "cmos=", 0
s_cw:    db "cw=", 0
s_sqrt:  db "sqrt2=", 0
s_pi:    db "pi=", 0
s_irq:   db "irq13=", 0
s_sw:    db " sw=", 0
n355:    dw 355
n113:    dw 113
n10000:  dw 10000
cw_ze:   dw 037Bh           ; the FNINIT control word with ZE (bit 2) unmasked
irqs:    db 0
cw:      dw 0
pi:      dw 0
sws:     dw 0, 0
result:  dq 0

        times 510 - ($ - $$) db 0
        dw      0AA55h
