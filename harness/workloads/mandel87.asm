; mandel87: a Mandelbrot kernel in x87 doubles (32x32 points, at most 64
; iterations each), flat 32-bit code loaded at 1000h; EDI ends as the total
; iteration count, then HLT. Used by `cargo bench -p ironpc-harness --bench ia32_x87`.

        cpu     686
        bits    32
        org     0x1000

        fninit
        fldcw   [cw53]                  ; 53-bit precision: doubles
        xor     edi, edi
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
        hlt

        align   8
xmin:   dq      -2.0
ymin:   dq      -1.25
step:   dq      0.078125                ; 2.5 / 32
four:   dq      4.0
cr:     dq      0
ci:     dq      0
tmp:    dd      0
cw53:   dw      0x027F
