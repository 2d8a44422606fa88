// The PVH kernel check, through validate(): hand-made ELF files, each with
// one thing right or wrong, plus the real hello guest and /bin/true.
#include <fleet/test/support.hpp>

#include <fleet/vmm/spec.hpp>

#include <elf.h>

#include <cstring>
#include <string>

using namespace fleet::vmm;
using fleet::test::contains;
using fleet::test::TempDir;

namespace {

constexpr std::uint32_t xen_phys32_entry = 18;

template <class T>
void put(std::string& out, std::size_t at, const T& value)
{
    if (out.size() < at + sizeof value) out.resize(at + sizeof value);
    std::memcpy(out.data() + at, &value, sizeof value);
}

// One ELF note: header, name (NUL included, padded to 4), descriptor (padded).
std::string note(const std::string& owner, std::uint32_t type, const std::string& desc)
{
    std::string n;
    Elf32_Nhdr h{};
    h.n_namesz = static_cast<std::uint32_t>(owner.size() + 1);
    h.n_descsz = static_cast<std::uint32_t>(desc.size());
    h.n_type = type;
    put(n, 0, h);
    n += owner;
    n += '\0';
    n.resize((n.size() + 3) & ~std::size_t{3}, '\0');
    n += desc;
    n.resize((n.size() + 3) & ~std::size_t{3}, '\0');
    return n;
}

std::string pvh_note()
{
    return note("Xen", xen_phys32_entry, std::string("\x00\x00\x10\x00", 4));
}

struct ElfShape {
    std::string notes;  // contents of the PT_NOTE segment
    bool has_note_segment = true;
    std::uint16_t machine = EM_X86_64;
    unsigned char data = ELFDATA2LSB;
    std::uint64_t note_filesz_override = 0;  // 0: the real size
    std::uint64_t note_offset_override = 0;  // 0: the real offset
};

// A minimal executable: ELF header, a PT_LOAD and (optionally) a PT_NOTE.
template <class Ehdr, class Phdr>
std::string make_elf(const ElfShape& shape, unsigned char elf_class)
{
    std::string f;
    Ehdr eh{};
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = elf_class;
    eh.e_ident[EI_DATA] = shape.data;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_EXEC;
    eh.e_machine = shape.machine;
    eh.e_version = EV_CURRENT;
    eh.e_entry = 0x100000;
    eh.e_phoff = sizeof(Ehdr);
    eh.e_ehsize = sizeof(Ehdr);
    eh.e_phentsize = sizeof(Phdr);
    eh.e_phnum = shape.has_note_segment ? 2 : 1;
    put(f, 0, eh);
    std::size_t notes_at = sizeof(Ehdr) + eh.e_phnum * sizeof(Phdr);
    Phdr load{};
    load.p_type = PT_LOAD;
    load.p_vaddr = load.p_paddr = 0x100000;
    load.p_filesz = load.p_memsz = notes_at + shape.notes.size();
    load.p_flags = PF_R | PF_X;
    put(f, sizeof(Ehdr), load);
    if (shape.has_note_segment) {
        Phdr nt{};
        nt.p_type = PT_NOTE;
        nt.p_offset = shape.note_offset_override ? shape.note_offset_override : notes_at;
        nt.p_filesz = shape.note_filesz_override ? shape.note_filesz_override : shape.notes.size();
        nt.p_memsz = nt.p_filesz;
        nt.p_align = 4;
        put(f, sizeof(Ehdr) + sizeof(Phdr), nt);
    }
    f.resize(notes_at);
    f += shape.notes;
    return f;
}

std::string elf64(const ElfShape& s)
{
    return make_elf<Elf64_Ehdr, Elf64_Phdr>(s, ELFCLASS64);
}
std::string elf32(ElfShape s)
{
    if (s.machine == EM_X86_64) s.machine = EM_386;
    return make_elf<Elf32_Ehdr, Elf32_Phdr>(s, ELFCLASS32);
}

// validate() a spec whose kernel holds `bytes`.
fleet::Result<> check(const TempDir& tmp, const std::string& bytes)
{
    static int n = 0;
    std::string path = tmp / ("k" + std::to_string(++n) + ".elf");
    fleet::test::write_file(path, bytes);
    VmSpec s;
    s.name = "elf";
    s.kernel = path;
    return validate(s);
}

std::string message(const fleet::Result<>& r)
{
    return r ? std::string("(ok)") : r.error().message;
}

}  // namespace

TEST_CASE("elf: real files", "[elf]")
{
    VmSpec s;
    s.name = "elf";
    s.kernel = fleet::test::hello_elf();
    CHECK(validate(s));
    s.kernel = "/bin/true";
    CHECK(contains(message(validate(s)), "no PVH entry note"));
}

TEST_CASE("elf: a PVH note makes a bootable kernel, 64- and 32-bit", "[elf]")
{
    TempDir tmp;
    ElfShape s;
    s.notes = pvh_note();
    CHECK(check(tmp, elf64(s)));
    CHECK(check(tmp, elf32(s)));
    s.machine = EM_386;
    CHECK(check(tmp, elf64(s)));  // x86 either way
}

TEST_CASE("elf: the note is found among others", "[elf]")
{
    TempDir tmp;
    ElfShape s;
    // Odd name and descriptor sizes exercise the 4-byte padding.
    s.notes = note("GNU", 3, std::string(20, '\x5a')) + note("Linux", 1, "abcde") + note("X", 7, "") + pvh_note() +
              note("GNU", 4, "zz");
    CHECK(check(tmp, elf64(s)));
    CHECK(check(tmp, elf32(s)));
}

TEST_CASE("elf: near misses are not a PVH note", "[elf]")
{
    TempDir tmp;
    ElfShape s;
    auto no_note = [&](const std::string& notes) {
        s.notes = notes;
        INFO("notes of " << notes.size() << " bytes");
        CHECK(contains(message(check(tmp, elf64(s))), "no PVH entry note"));
        CHECK(contains(message(check(tmp, elf32(s))), "no PVH entry note"));
    };
    no_note("");
    no_note(note("Xen", 17, "abcd"));                 // another Xen note
    no_note(note("Xe", xen_phys32_entry, "abcd"));    // owner too short
    no_note(note("XenX", xen_phys32_entry, "abcd"));  // owner too long
    no_note(note("GNU", xen_phys32_entry, "abcd"));   // wrong owner
    no_note(note("xen", xen_phys32_entry, "abcd"));   // case matters
    no_note(std::string(11, '\0'));                   // shorter than a note header

    // A note whose descriptor runs past the segment ends the walk.
    std::string n = pvh_note();
    Elf32_Nhdr h{};
    std::memcpy(&h, n.data(), sizeof h);
    h.n_descsz = 1000;
    std::string broken = n;
    std::memcpy(broken.data(), &h, sizeof h);
    no_note(broken);
    h.n_descsz = 0xffffffff;
    std::memcpy(broken.data(), &h, sizeof h);
    no_note(broken);
    // A huge name size likewise, with the real note after it.
    h = Elf32_Nhdr{0xfffffff0, 0, 1};
    std::string huge(sizeof h, '\0');
    std::memcpy(huge.data(), &h, sizeof h);
    no_note(huge + pvh_note());

    // No PT_NOTE segment at all.
    ElfShape none;
    none.has_note_segment = false;
    CHECK(contains(message(check(tmp, elf64(none))), "no PVH entry note"));
}

TEST_CASE("elf: a note segment pointing outside the file is ignored", "[elf]")
{
    TempDir tmp;
    ElfShape s;
    s.notes = pvh_note();
    s.note_offset_override = 1u << 30;
    CHECK(contains(message(check(tmp, elf64(s))), "no PVH entry note"));
    s.note_offset_override = 0xfffffffffffffff0ull;  // negative as an off_t
    CHECK(contains(message(check(tmp, elf64(s))), "no PVH entry note"));
    s.note_offset_override = 0;
    s.note_filesz_override = 4096;  // runs past the end of the file
    CHECK(contains(message(check(tmp, elf64(s))), "no PVH entry note"));
    s.note_filesz_override = 1ull << 40;  // absurd size: not read at all
    CHECK(contains(message(check(tmp, elf64(s))), "no PVH entry note"));
}

TEST_CASE("elf: headers that are not a usable x86 ELF", "[elf]")
{
    TempDir tmp;
    ElfShape s;
    s.notes = pvh_note();

    SECTION("big-endian")
    {
        s.data = ELFDATA2MSB;
        CHECK(contains(message(check(tmp, elf64(s))), "not a little-endian ELF"));
    }
    SECTION("another machine")
    {
        s.machine = EM_AARCH64;
        CHECK(contains(message(check(tmp, elf64(s))), "not an x86 ELF"));
        s.machine = EM_ARM;
        CHECK(contains(message(check(tmp, elf32(s))), "not an x86 ELF"));
    }
    SECTION("unknown class")
    {
        std::string f = elf64(s);
        f[EI_CLASS] = 7;
        CHECK(contains(message(check(tmp, f)), "unknown ELF class"));
    }
    SECTION("truncated header")
    {
        std::string f = elf64(s);
        CHECK(contains(message(check(tmp, f.substr(0, 40))), "truncated ELF"));
        CHECK(contains(message(check(tmp, f.substr(0, 8))), "not an ELF file"));
    }
    SECTION("truncated program headers")
    {
        std::string f = elf64(s);
        CHECK(contains(message(check(tmp, f.substr(0, sizeof(Elf64_Ehdr) + 10))), "truncated ELF"));
    }
    SECTION("no program headers")
    {
        std::string f = elf64(s);
        Elf64_Ehdr eh;
        std::memcpy(&eh, f.data(), sizeof eh);
        eh.e_phnum = 0;
        std::memcpy(f.data(), &eh, sizeof eh);
        CHECK(contains(message(check(tmp, f)), "no usable program headers"));
        eh.e_phnum = 2;
        eh.e_phentsize = 12;
        std::memcpy(f.data(), &eh, sizeof eh);
        CHECK(contains(message(check(tmp, f)), "no usable program headers"));
        eh.e_phentsize = sizeof(Elf64_Phdr);
        eh.e_phoff = 0xfffffffffffffff0ull;
        std::memcpy(f.data(), &eh, sizeof eh);
        CHECK(contains(message(check(tmp, f)), "truncated ELF"));
    }
}
