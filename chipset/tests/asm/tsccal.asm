; Time-stamp counter against the PIT on the AT board (tests/at_tsc.rs).
; A 64 KiB BIOS at F000:0000, entered from the reset vector, in real mode
; with 32-bit registers (Pentium Pro model). Results go to port E9h as
; text lines; the test checks them against the clock rates.
;
; 1. "quick": Linux's quick PIT calibration (arch/x86/kernel/tsc.c,
;    quick_pit_calibrate, described here from its documented algorithm):
;    counter 2 in mode 0 from FFFFh with the gate high, the MSB polled
;    (two reads of port 42h each time) until it changes, the TSC read at
;    each change; it succeeds once the uncertainty of the two ends is under
;    1/2048 of the TSC span. Prints the iteration i and the TSC span: the
;    span covers i*256 PIT clocks.
; 2. "slow": the fallback: counter 2 in mode 0 with 11932 (10 ms), port
;    61h bit 5 (OUT2) polled until it rises; prints the TSC span and the
;    number of polls.
; 3. "hlt": counter 0 in mode 0 with 11932 (10 ms), IRQ 0 unmasked, HLT;
;    prints the TSC span across the halt: it must count the time halted.

bits 16
org 0

start:
    cli
    xor ax, ax
    mov ss, ax
    mov ds, ax
    mov sp, 0x7000

; ---- 1. quick calibration ----
    in al, 0x61
    and al, 0xFD                ; speaker off
    or al, 0x01                 ; gate 2 high
    out 0x61, al
    mov al, 0xB0                ; counter 2, LSB then MSB, mode 0, binary
    out 0x43, al
    mov al, 0xFF
    out 0x42, al
    out 0x42, al
    in al, 0x42                 ; the counter starts at the next PIT clock:
    in al, 0x42                 ; one 16-bit read waits for it
    mov bl, 0xFF
    call expect_msb
    cmp cx, 5
    jbe quick_fail
    mov [d1], ebp
    mov [tsc0], esi
    mov bh, 1                   ; i
.iter:
    mov bl, 0xFF
    sub bl, bh
    call expect_msb
    cmp cx, 5
    jbe quick_fail
    mov eax, esi
    sub eax, [tsc0]             ; delta
    mov edx, [d1]
    add edx, ebp                ; d1 + d2
    mov ecx, eax
    shr ecx, 11
    cmp edx, ecx
    jb .done
    inc bh
    cmp bh, 233                 ; 50 ms of 256-clock steps
    jbe .iter
    jmp quick_fail
.done:
    push eax
    mov si, s_quick
    call puts
    movzx eax, bh
    call hex32
    mov si, s_delta
    call puts
    pop eax
    call hex32
    call newline
    jmp slow
quick_fail:
    mov si, s_qfail
    call puts
    movzx eax, bh
    call hex32
    call newline

; ---- 2. slow calibration (OUT2 through port 61h) ----
slow:
    in al, 0x61
    and al, 0xFD
    or al, 0x01
    out 0x61, al
    mov al, 0xB0
    out 0x43, al
    mov al, 11932 & 0xFF
    out 0x42, al
    mov al, 11932 >> 8
    out 0x42, al
    rdtsc
    mov esi, eax                ; t1
    xor edi, edi                ; polls
.poll:
    in al, 0x61
    test al, 0x20
    jnz .risen
    inc edi
    jmp .poll
.risen:
    rdtsc
    sub eax, esi
    push eax
    mov si, s_slow
    call puts
    pop eax
    call hex32
    mov si, s_polls
    call puts
    mov eax, edi
    call hex32
    call newline

; ---- 3. TSC across HLT ----
    mov word [8*4], irq0        ; IRQ 0 at vector 8 (the PIC's base below)
    mov word [8*4+2], 0xF000
    mov al, 0x11                ; ICW1: edge, cascade, ICW4
    out 0x20, al
    mov al, 0x08                ; ICW2: base 8
    out 0x21, al
    mov al, 0x04                ; ICW3: slave on IR2
    out 0x21, al
    mov al, 0x01                ; ICW4: 8086 mode
    out 0x21, al
    mov al, 0xFE                ; only IRQ 0
    out 0x21, al
    mov al, 0x30                ; counter 0, LSB then MSB, mode 0
    out 0x43, al
    mov al, 11932 & 0xFF
    out 0x40, al
    mov al, 11932 >> 8
    out 0x40, al
    rdtsc
    mov esi, eax
    sti
    hlt
    cli
    rdtsc
    sub eax, esi
    push eax
    mov si, s_hlt
    call puts
    pop eax
    call hex32
    call newline
    mov si, s_end
    call puts
    mov dx, 0x8900              ; Bochs shutdown port
    mov si, s_shutdown
.sd:
    cs lodsb
    or al, al
    jz .hang
    out dx, al
    jmp .sd
.hang:
    hlt
    jmp .hang

irq0:
    push ax
    mov al, 0x20
    out 0x20, al
    pop ax
    iret

; expect_msb: BL = the expected MSB. Polls while the MSB equals BL (at most
; 50000 times). Out: CX = polls that matched, ESI = TSC at the last match,
; EBP = TSC now minus the TSC at the match before it.
expect_msb:
    xor esi, esi
    xor edi, edi
    xor cx, cx
.loop:
    cmp cx, 50000
    jae .out
    in al, 0x42
    in al, 0x42
    cmp al, bl
    jne .out
    mov edi, esi
    rdtsc
    mov esi, eax
    inc cx
    jmp .loop
.out:
    rdtsc
    sub eax, edi
    mov ebp, eax
    ret

; Text from CS:SI to port E9h.
puts:
    cs lodsb
    or al, al
    jz .r
    out 0xE9, al
    jmp puts
.r:
    ret

newline:
    mov al, 10
    out 0xE9, al
    ret

; EAX as 8 hex digits.
hex32:
    mov cx, 8
.d:
    rol eax, 4
    push eax
    and al, 0x0F
    add al, '0'
    cmp al, '9'
    jbe .p
    add al, 'A' - '9' - 1
.p:
    out 0xE9, al
    pop eax
    loop .d
    ret

s_quick:    db "quick i=", 0
s_delta:    db " tsc=", 0
s_qfail:    db "quick failed at i=", 0
s_slow:     db "slow tsc=", 0
s_polls:    db " polls=", 0
s_hlt:      db "hlt tsc=", 0
s_end:      db "done", 10, 0
s_shutdown: db "Shutdown", 0

d1   equ 0x500
tsc0 equ 0x504

    times 0xFFF0 - ($ - $$) db 0xF4
    jmp 0xF000:start
    times 0x10000 - ($ - $$) db 0xF4
