/* hello: PVH entry and interrupt stubs (32-bit protected mode, no paging). */

#define XEN_ELFNOTE_PHYS32_ENTRY 18

/* The Xen PVH note tells QEMU's loader the 32-bit entry point. */
    .section .note.Xen, "a", @note
    .balign 4
    .long 4                         /* namesz: "Xen\0" */
    .long 4                         /* descsz */
    .long XEN_ELFNOTE_PHYS32_ENTRY
    .asciz "Xen"
    .balign 4
    .long pvh_start
    .balign 4

    .section .text.entry, "ax"
    .code32
    .globl pvh_start
/* PVH entry: %ebx = struct hvm_start_info *, interrupts off, paging off.
 * The segment state is flat but the GDT is unspecified: load our own. */
pvh_start:
    cli
    cld
    lgdt gdt_desc
    ljmp $0x08, $1f
1:  movl $0x10, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %fs
    movl %eax, %gs
    movl %eax, %ss
    movl $stack_top, %esp
    pushl %ebx
    call hello_main
2:  cli
    hlt
    jmp 2b

/* CPU exceptions 0..31: one 8-byte stub each, pushing its vector number.
 * None of them return, so the error code some vectors push is ignored. */
    .text
    .balign 8
    .globl fault_stubs
fault_stubs:
    .set vec, 0
    .rept 32
    .balign 8
    pushl $vec
    jmp fault_common
    .set vec, vec + 1
    .endr
fault_common:
    call hello_fault                /* does not return */

/* GED interrupt: save the caller-saved registers the C code may clobber. */
    .globl ged_stub
ged_stub:
    pushl %eax
    pushl %ecx
    pushl %edx
    call hello_ged_irq
    popl %edx
    popl %ecx
    popl %eax
    iret

/* LAPIC spurious vector: no EOI. */
    .globl spurious_stub
spurious_stub:
    iret

    .section .rodata
    .balign 8
gdt:
    .quad 0
    .quad 0x00cf9a000000ffff        /* 0x08: flat 32-bit code */
    .quad 0x00cf92000000ffff        /* 0x10: flat data */
gdt_desc:
    .word gdt_desc - gdt - 1
    .long gdt

    .section .bss
    .balign 16
    .space 16384
stack_top:

    .section .note.GNU-stack, "", @progbits   /* no executable stack */
