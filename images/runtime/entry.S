/* fleet runtime: PVH entry, 32-bit -> 64-bit switch, interrupt stubs.
 *
 * QEMU (microvm, -kernel) enters pvh_start in 32-bit protected mode, paging
 * off, %ebx = struct hvm_start_info *.  We build identity-mapped page tables
 * (2 MiB pages, 0..4 GiB: RAM and every MMIO hole microvm uses), enable PAE +
 * long mode + paging, and jump to 64-bit code, which calls rt_boot(si). */

#define XEN_ELFNOTE_PHYS32_ENTRY 18

/* The Xen PVH note.  In an ELF64 file QEMU reads the entry as a 64-bit word
 * placed right after the 4-byte-aligned name (the PT_NOTE must be 4-aligned). */
    .section .note.Xen, "a", @note
    .balign 4
    .long 4                         /* namesz: "Xen\0" */
    .long 8                         /* descsz */
    .long XEN_ELFNOTE_PHYS32_ENTRY
    .asciz "Xen"
    .balign 4
    .quad pvh_start
    .balign 4

    .section .text.entry, "ax"
    .code32
    .globl pvh_start
pvh_start:
    cli
    cld
    movl %ebx, %esi                 /* keep the start info pointer */
    lgdt gdt_desc
    ljmp $0x08, $1f
1:  movl $0x10, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %fs
    movl %eax, %gs
    movl %eax, %ss
    movl $boot_stack_top, %esp

    /* Zero .bss (QEMU's ELF loader does too; be safe). */
    movl $__bss_start, %edi
    movl $__bss_end, %ecx
    subl %edi, %ecx
    shrl $2, %ecx
    xorl %eax, %eax
    rep stosl

    /* PML4[0] -> PDPT; PDPT[0..3] -> PD0..PD3; PD entries: 2 MiB pages. */
    movl $pt_pdpt, %eax
    orl $0x3, %eax
    movl %eax, pt_pml4
    movl $pt_pd, %eax
    orl $0x3, %eax
    movl %eax, pt_pdpt
    addl $4096, %eax
    movl %eax, pt_pdpt + 8
    addl $4096, %eax
    movl %eax, pt_pdpt + 16
    addl $4096, %eax
    movl %eax, pt_pdpt + 24
    xorl %ecx, %ecx                 /* entry index 0..2047 */
2:  movl %ecx, %eax
    shll $21, %eax
    orl $0x83, %eax                 /* present, writable, 2 MiB */
    cmpl $1536, %ecx                /* 3 GiB and up: MMIO, uncached */
    jb 3f
    orl $0x18, %eax                 /* PWT | PCD */
3:  movl %eax, pt_pd(,%ecx,8)
    movl $0, pt_pd+4(,%ecx,8)
    incl %ecx
    cmpl $2048, %ecx
    jb 2b

    movl $pt_pml4, %eax
    movl %eax, %cr3
    movl %cr4, %eax
    orl $0x620, %eax                /* PAE | OSFXSR | OSXMMEXCPT */
    movl %eax, %cr4
    movl $0xc0000080, %ecx          /* EFER */
    rdmsr
    orl $0x100, %eax                /* LME */
    wrmsr
    movl %cr0, %eax
    orl $0x80010001, %eax           /* PG | WP | PE */
    andl $0x9fffffff, %eax          /* caches on (CD, NW off) */
    movl %eax, %cr0
    ljmp $0x18, $long_entry

    .code64
long_entry:
    movl $0x10, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    movl %eax, %fs
    movl %eax, %gs
    movq $boot_stack_top, %rsp
    xorl %ebp, %ebp
    movl %esi, %edi                 /* rt_boot(start_info) */
    call rt_boot
4:  cli
    hlt
    jmp 4b

/* Interrupt stubs: each pushes its vector and jumps to the common path,
 * which saves the caller-saved registers and calls rt_interrupt(vector,
 * frame).  Exceptions never return (the error code some push is ignored). */
    .text
    .balign 16
    .globl rt_vector_stubs
rt_vector_stubs:
    .set vec, 0
    .rept 256
    .balign 16
    pushq $vec
    jmp interrupt_common
    .set vec, vec + 1
    .endr

interrupt_common:
    pushq %rax
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %rbp
    movq %rsp, %rbp
    movq 80(%rsp), %rdi             /* vector */
    leaq 88(%rsp), %rsi             /* CPU frame (maybe after an error code) */
    andq $-16, %rsp
    call rt_interrupt
    movq %rbp, %rsp
    popq %rbp
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rax
    addq $8, %rsp                   /* the vector */
    iretq

    .section .rodata
    .balign 16
gdt:
    .quad 0
    .quad 0x00cf9a000000ffff        /* 0x08: flat 32-bit code */
    .quad 0x00cf92000000ffff        /* 0x10: flat data */
    .quad 0x00af9a000000ffff        /* 0x18: 64-bit code */
gdt_desc:
    .word gdt_desc - gdt - 1
    .long gdt

    .section .bss
    .balign 4096
pt_pml4: .space 4096
pt_pdpt: .space 4096
pt_pd:   .space 4 * 4096
    .balign 16
    .globl boot_stack_bottom
boot_stack_bottom:
    .space 65536
    .globl boot_stack_top
boot_stack_top:

    .section .note.GNU-stack, "", @progbits
