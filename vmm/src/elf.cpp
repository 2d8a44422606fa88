// fleet — PVH kernel check (see elf.hpp).
#include "elf.hpp"

#include <fleet/base/fd.hpp>

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <vector>

namespace fleet::vmm {

namespace {

constexpr std::uint32_t xen_elfnote_phys32_entry = 18;

bool read_at(int fd, void* buf, std::size_t len, off_t off)
{
    return ::pread(fd, buf, len, off) == static_cast<ssize_t>(len);
}

// Walk the notes in [off, off+size) looking for the PVH entry note.
bool has_pvh_note(int fd, std::uint64_t off, std::uint64_t size)
{
    if (size > (1u << 20)) return false;
    std::vector<char> buf(size);
    if (!read_at(fd, buf.data(), size, static_cast<off_t>(off))) return false;
    std::size_t pos = 0;
    auto align4 = [](std::size_t n) { return (n + 3) & ~std::size_t{3}; };
    while (pos + sizeof(Elf32_Nhdr) <= size) {
        Elf32_Nhdr nh;  // identical layout to Elf64_Nhdr
        std::memcpy(&nh, buf.data() + pos, sizeof nh);
        std::size_t name_at = pos + sizeof nh;
        std::size_t desc_at = name_at + align4(nh.n_namesz);
        if (desc_at > size || nh.n_descsz > size - desc_at) return false;
        if (nh.n_type == xen_elfnote_phys32_entry && nh.n_namesz == 4 &&
            std::memcmp(buf.data() + name_at, "Xen", 4) == 0)
            return true;
        pos = desc_at + align4(nh.n_descsz);
    }
    return false;
}

template <class Ehdr, class Phdr>
Result<> check_notes(int fd, const std::string& path)
{
    Ehdr eh;
    if (!read_at(fd, &eh, sizeof eh, 0)) return fail("kernel '" + path + "' is a truncated ELF file");
    if (eh.e_machine != EM_X86_64 && eh.e_machine != EM_386)
        return fail("kernel '" + path + "' is not an x86 ELF file");
    if (eh.e_phentsize != sizeof(Phdr) || eh.e_phnum == 0 || eh.e_phnum > 256)
        return fail("kernel '" + path + "' has no usable program headers");
    for (unsigned i = 0; i < eh.e_phnum; ++i) {
        Phdr ph;
        if (!read_at(fd, &ph, sizeof ph, static_cast<off_t>(eh.e_phoff + i * sizeof ph)))
            return fail("kernel '" + path + "' is a truncated ELF file");
        if (ph.p_type == PT_NOTE && has_pvh_note(fd, ph.p_offset, ph.p_filesz)) return {};
    }
    return fail("kernel '" + path + "' has no PVH entry note; microvm cannot boot it (build it with CONFIG_PVH)");
}

}  // namespace

Result<> check_pvh_kernel(const std::string& path)
{
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT) return fail("kernel '" + path + "' not found");
        return fail_errno("kernel '" + path + "' cannot be opened");
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return fail("kernel '" + path + "' is not a regular file");
    unsigned char ident[EI_NIDENT];
    if (!read_at(fd.get(), ident, sizeof ident, 0) || std::memcmp(ident, ELFMAG, SELFMAG) != 0)
        return fail("kernel '" + path + "' is not an ELF file");
    if (ident[EI_DATA] != ELFDATA2LSB) return fail("kernel '" + path + "' is not a little-endian ELF file");
    if (ident[EI_CLASS] == ELFCLASS32) return check_notes<Elf32_Ehdr, Elf32_Phdr>(fd.get(), path);
    if (ident[EI_CLASS] == ELFCLASS64) return check_notes<Elf64_Ehdr, Elf64_Phdr>(fd.get(), path);
    return fail("kernel '" + path + "' has an unknown ELF class");
}

}  // namespace fleet::vmm
