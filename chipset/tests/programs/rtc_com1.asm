; A boot sector for chipset/tests/at_slices.rs: the RTC's periodic
; interrupt (IRQ 8, vector 70h) at 1024 Hz, COM1's transmitter-empty
; interrupt (IRQ 4, vector 0Ch) sending a message at 38400 baud and the
; primary IDE channel's interrupt (IRQ 14, vector 76h) reading two sectors,
; while the main program computes, then waits in HLT.
;
; RTC (MC146818A): register A = 26h keeps the divider running (DV = 010)
; with rate select 6, a periodic interrupt every 2^(6-1) = 32 cycles of the
; 32.768 kHz time base (1024 Hz); register B bit 6 (PIE) enables it;
; reading register C acknowledges it.
; COM1 (16550A): divisor 3 (115200 / 3 = 38400 baud), 8N1 (LCR 03h), MCR
; bit 3 (OUT2) gates the interrupt onto IRQ 4, IER bit 1 enables the
; transmitter-holding-register-empty interrupt; the handler sends the next
; byte of the message and, after the last, turns the interrupt off.
; IDE: READ SECTORS (20h) of LBA 1–2 from the primary master with the
; interrupt enabled (device control nIEN = 0); each interrupt's handler
; reads the status register (clearing INTRQ) and the sector's 256 words to
; 0000:0800h onwards.
; Done: 42h at 0000:0500h.

        org 7C00h
        cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 7C00h
        mov word [70h*4], rtc_isr
        mov word [70h*4+2], 0
        mov word [0Ch*4], com_isr
        mov word [0Ch*4+2], 0
        mov word [ticks], 0
        mov word [sent], 0
        mov word [disk_irqs], 0
        mov word [disk_ptr], 0800h
        mov word [76h*4], ide_isr
        mov word [76h*4+2], 0

        mov al, 0Ah             ; RTC register A: divider on, rate 6
        out 70h, al
        mov al, 26h
        out 71h, al
        mov al, 0Bh             ; register B: PIE on
        out 70h, al
        in al, 71h
        or al, 40h
        mov ah, al
        mov al, 0Bh
        out 70h, al
        mov al, ah
        out 71h, al
        mov al, 0Ch             ; register C: clear pending flags
        out 70h, al
        in al, 71h

        mov dx, 3FBh            ; COM1: DLAB, divisor 3, 8N1
        mov al, 80h
        out dx, al
        mov dx, 3F8h
        mov al, 3
        out dx, al
        inc dx
        xor al, al
        out dx, al
        mov dx, 3FBh
        mov al, 03h
        out dx, al
        mov dx, 3FCh            ; OUT2
        mov al, 08h
        out dx, al

        in al, 0A1h             ; unmask IRQ 8 and IRQ 14 on the slave
        and al, 0BEh
        out 0A1h, al
        in al, 21h              ; IRQ 2 (cascade) and IRQ 4 on the master
        and al, 0EBh
        out 21h, al

        mov dx, 1F7h            ; IDE: wait until not busy
.bsy:   in al, dx
        test al, 80h
        jnz .bsy
        mov dx, 3F6h            ; nIEN = 0: interrupts on
        xor al, al
        out dx, al
        mov dx, 1F6h            ; LBA, master, LBA 27:24 = 0
        mov al, 0E0h
        out dx, al
        mov dx, 1F2h            ; two sectors from LBA 1
        mov al, 2
        out dx, al
        inc dx
        mov al, 1
        out dx, al
        inc dx
        xor al, al
        out dx, al
        inc dx
        out dx, al
        mov dx, 1F7h            ; READ SECTORS
        mov al, 20h
        out dx, al

        mov dx, 3F9h            ; THRE interrupt on: the register is empty
        mov al, 02h
        out dx, al
        sti

        xor bx, bx              ; computing until 100 ticks
busy:   inc bx
        add si, bx
        rol si, 3
        xor di, si
        cmp word [ticks], 100
        jb busy

idle:   hlt                     ; waiting until 200
        cmp word [ticks], 200
        jb idle

        cli
        mov [0502h], di
        mov byte [0500h], 42h
done:   hlt
        jmp done

rtc_isr:
        push ax
        mov al, 0Ch
        out 70h, al
        in al, 71h
        inc word [ticks]
        mov al, 20h
        out 0A0h, al
        out 20h, al
        pop ax
        iret

com_isr:
        push ax
        push dx
        push si
        mov dx, 3FAh            ; IIR: acknowledges THRE
        in al, dx
        mov si, [sent]
        cmp si, msg_len
        jae .off
        mov al, [msg + si]
        mov dx, 3F8h
        out dx, al
        inc word [sent]
        jmp .eoi
.off:   mov dx, 3F9h
        xor al, al
        out dx, al
.eoi:   mov al, 20h
        out 20h, al
        pop si
        pop dx
        pop ax
        iret

ide_isr:
        push ax
        push cx
        push dx
        push di
        mov dx, 1F7h            ; status: clears INTRQ
        in al, dx
        mov di, [disk_ptr]
        mov dx, 1F0h
        mov cx, 256
        cld
        rep insw
        mov [disk_ptr], di
        inc word [disk_irqs]
        mov al, 20h
        out 0A0h, al
        out 20h, al
        pop di
        pop dx
        pop cx
        pop ax
        iret

msg:    db "slices and steps agree"
msg_len equ $ - msg

ticks   equ 0600h
sent    equ 0602h
disk_irqs equ 0604h
disk_ptr equ 0606h

        times 510 - ($ - $$) db 0
        dw 0AA55h
