// fleet runtime: boot. From entry.S's 64-bit code to main: the PVH start
// info (command line, memory map), the heap, constructors, interrupts,
// virtio-serial, "ready".
#include "core/cmdline.hpp"
#include "core/exec.hpp"
#include "core/heap.hpp"
#include "hw.hpp"

#ifndef RT_PROGRAM
#define RT_PROGRAM "program"
#endif

// Programs may define main with two arguments or three; the third gets the
// environment (x86-64 passes it in a register either way).
int main(int argc, char** argv, char** envp);

namespace rt {
namespace {

constexpr uint32_t hvm_start_magic = 0x336ec578;

struct HvmStartInfo {  // xen/include/public/arch-x86/hvm/start_info.h
    uint32_t magic, version, flags, nr_modules;
    uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
    uint32_t memmap_entries, reserved;
};
struct HvmMemmapEntry {
    uint64_t addr, size;
    uint32_t type, reserved;
};

// ---- arguments ------------------------------------------------------------------------------
// The command line, copied before the heap may cover it (a raw QEMU line
// carries the exec block there).
char cmdline_copy[FLEET_CMDLINE_MAX + 1];

void copy_cmdline(const char* src)
{
    size_t n = 0;
    while (src && src[n] && n + 1 < sizeof cmdline_copy) {
        cmdline_copy[n] = src[n];
        n++;
    }
    cmdline_copy[n] = 0;
}

size_t ram_bytes;

}  // namespace

const char* program_name()
{
    return RT_PROGRAM;
}
size_t ram_total()
{
    return ram_bytes;
}

namespace hw {
unsigned cmdline_virtio_gsi(uintptr_t base)
{
    return virtio_gsi_from_cmdline(cmdline_copy, base);
}
}  // namespace hw

}  // namespace rt

extern "C" {

// Called from entry.S in 64-bit mode with the PVH start info.
[[noreturn]] void rt_boot(uint32_t start_info)
{
    using namespace rt;
    const auto* si = reinterpret_cast<const HvmStartInfo*>(static_cast<uintptr_t>(start_info));
    bool pvh = si && si->magic == hvm_start_magic;

    // Arguments first: the command line may sit where the heap will go.
    const char* cmdline = nullptr;
    if (pvh && si->cmdline_paddr && si->cmdline_paddr < 0x100000000ull)
        cmdline = reinterpret_cast<const char*>(static_cast<uintptr_t>(si->cmdline_paddr));
    copy_cmdline(cmdline);

    // Memory map: the heap is the largest RAM region, above the image.
    extern char __image_end[];
    uint64_t image_end = reinterpret_cast<uintptr_t>(__image_end);
    uint64_t best_start = 0, best_end = 0;
    if (pvh && si->version >= 1 && si->memmap_paddr && si->memmap_entries) {
        const auto* mm = reinterpret_cast<const HvmMemmapEntry*>(static_cast<uintptr_t>(si->memmap_paddr));
        for (uint32_t i = 0; i < si->memmap_entries && i < 128; i++) {
            if (mm[i].type != 1) continue;
            ram_bytes += mm[i].size;
            uint64_t s = mm[i].addr, e = mm[i].addr + mm[i].size;
            if (s < image_end) s = image_end;
            if (e > 0x100000000ull) e = 0x100000000ull;
            if (e > s && e - s > best_end - best_start) best_start = s, best_end = e;
        }
    }
    if (best_end <= best_start) {  // no map: assume the 16 MiB minimum
        best_start = image_end;
        best_end = 16u << 20;
        ram_bytes = best_end;
    }
    // The start info, memory map and command line were copied or are below
    // the image (QEMU puts them in low memory); keep the first page of the
    // region anyway in case they follow the image.
    if (best_end > 0x100000000ull) best_end = 0x100000000ull;  // the identity map covers 4 GiB
    heap_init(static_cast<uintptr_t>(best_start + 4096), static_cast<uintptr_t>(best_end));

    extern void (*__init_array_start[])();
    extern void (*__init_array_end[])();
    for (auto* f = __init_array_start; f != __init_array_end; ++f) (*f)();

    hw::irq_init();
    if (!vs::init()) {
        rt::console("%s: no virtio-serial device with ports %s/%s/%s/%s\n", RT_PROGRAM, FLEET_PORT_STDIN,
                    FLEET_PORT_STDOUT, FLEET_PORT_STDERR, FLEET_PORT_CTL);
        hw::debug_exit(125);
    }
    Exec exec = exec_receive(cmdline_copy);
    vs::ctl_write(FLEET_CTL_READY "\n", sizeof(FLEET_CTL_READY "\n") - 1);
    hw::poll_ged();  // a press that came before the GED route was set
    hw::check_power();
    rt::exit(main(exec.argc, exec.argv, exec.envp));
}

}  // extern "C"
