; mandel87: a Mandelbrot kernel in x87 doubles (32x32 points, at most 64
; iterations each), flat 32-bit code loaded at 1000h; EDI ends as the total
; iteration count, then HLT. Used by `cargo bench -p ironpc-harness --bench ia32_x87`.

        cpu     686
%include "mandel87_kernel.inc"
        bits    32
        org     0x1000

        fninit
        fldcw   [cw53]                  ; 53-bit precision: doubles
        xor     edi, edi
        MANDEL87_POINTS
        hlt

        MANDEL87_DATA
