// fleet — a shared library opened on first use.
//
// A program linked with a library pays, at every start, for loading and
// relocating it and its own dependencies and for running their
// constructors, whether or not that run uses it. fsh links GnuTLS (TLS to
// a router), avahi-client (finding routers over mDNS) and libedit (line
// editing): 22 libraries, ~2.4 ms of a `fsh -c true` that needs none of
// them. Through LazyLibrary a program names a library it only needs on
// some paths and opens it (dlopen) the first time one of them runs.
//
// The calls go through FLEET_LAZY(library, function), typed by the
// function's declaration in the library's own header, so a call is
// checked by the compiler exactly as a direct one.
//
// A library or symbol that cannot be had means a broken installation (the
// package the build was made against is gone). That is answered as the
// dynamic loader answers it for a library a program is linked with: one
// line on stderr, naming the library and what it is for, and status 127.
// It is the one place in base/ that writes to stderr and ends the program.
#pragma once

#include <atomic>
#include <mutex>

namespace fleet {

class LazyLibrary {
public:
    // soname: what dlopen gets ("libgnutls.so.30"); purpose: what the
    // program needs it for, in the error ("TLS to a router").
    constexpr LazyLibrary(const char* soname, const char* purpose) noexcept : soname_(soname), purpose_(purpose) {}
    LazyLibrary(const LazyLibrary&) = delete;
    LazyLibrary& operator=(const LazyLibrary&) = delete;

    // The address of `name` (a function or an object) in the library,
    // opened on the first call. Never null: a failure ends the program
    // (above).
    void* symbol(const char* name);

    // Typed: F is a pointer to the function or object.
    template <class F>
    F get(const char* name)
    {
        return reinterpret_cast<F>(symbol(name));
    }

    // Whether a call has opened it yet.
    [[nodiscard]] bool loaded() const noexcept { return handle_.load(std::memory_order_acquire) != nullptr; }

private:
    void* open();

    const char* soname_;
    const char* purpose_;
    std::once_flag once_;
    std::atomic<void*> handle_{nullptr};
};

}  // namespace fleet

// `fn` from `library` (a LazyLibrary of namespace scope), as a pointer of
// the type its header declares; looked up once per call site. For an
// object (GnuTLS's gnutls_free) it is a pointer to the object.
#define FLEET_LAZY(library, fn)                                           \
    ([]() -> decltype(&::fn) {                                            \
        static const auto resolved = (library).get<decltype(&::fn)>(#fn); \
        return resolved;                                                  \
    }())
