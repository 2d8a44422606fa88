// fleet — a shared library opened on first use (lazy_library.hpp).
#include <fleet/base/lazy_library.hpp>

#include <dlfcn.h>
#include <errno.h>

#include <cstdio>
#include <cstdlib>

namespace fleet {

namespace {

[[noreturn]] void broken(const char* soname, const char* purpose, const char* why)
{
    std::fflush(stdout);
    std::fprintf(stderr, "%s: cannot use %s (needed for %s): %s\n", program_invocation_short_name, soname, purpose,
                 why ? why : "unknown error");
    std::exit(127);
}

}  // namespace

void* LazyLibrary::open()
{
    std::call_once(once_, [this] {
        // RTLD_LOCAL: its symbols stay out of the global scope, so
        // nothing else binds to them; RTLD_NOW: a missing symbol is found
        // here, at the first use, not later in the middle of a call.
        void* h = ::dlopen(soname_, RTLD_NOW | RTLD_LOCAL);
        if (!h) broken(soname_, purpose_, ::dlerror());
        handle_.store(h, std::memory_order_release);
    });
    return handle_.load(std::memory_order_acquire);
}

void* LazyLibrary::symbol(const char* name)
{
    void* h = open();
    ::dlerror();
    void* p = ::dlsym(h, name);
    if (!p) broken(soname_, purpose_, ::dlerror());
    return p;
}

}  // namespace fleet
