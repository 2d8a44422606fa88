// fleet unit tests — small helpers shared by every layer's *_test.cpp files.
#pragma once

#include <catch2/catch.hpp>

#include <fleet/base/error.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace fleet::test {

// A fresh folder under $TMPDIR (or /tmp), removed with everything in it.
class TempDir {
public:
    TempDir()
    {
        const char* base = std::getenv("TMPDIR");
        std::string tmpl = std::string(base && *base ? base : "/tmp") + "/fleet-unit-XXXXXX";
        if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir()
    {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    [[nodiscard]] const std::string& path() const { return path_; }
    [[nodiscard]] std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

private:
    std::string path_;
};

inline void write_file(const std::string& path, const std::string& text)
{
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream out(path, std::ios::binary);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + path);
}

inline std::string read_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

#ifdef FLEET_UNIT_DATA
// <the test's data folder>/<name> (FLEET_UNIT_DATA, set by its meson.build)
inline std::string data_path(const std::string& name)
{
    return std::string(FLEET_UNIT_DATA) + "/" + name;
}
#endif

#ifdef FLEET_TEST_HELLO_ELF
// The hello guest (a PVH ELF built by images/hello); $FLEET_TEST_HELLO_ELF
// overrides the path meson compiled in. `meson test` builds it first; a
// unit-test binary run by hand needs `ninja -C build` first.
inline std::string hello_elf()
{
    std::string path = FLEET_TEST_HELLO_ELF;
    if (const char* e = std::getenv("FLEET_TEST_HELLO_ELF"); e && *e) path = e;
    if (::access(path.c_str(), R_OK) != 0) FAIL("the hello guest " << path << " is not built (ninja -C build)");
    return path;
}
#endif

inline bool contains(const std::string& haystack, const std::string& needle)
{
    return haystack.find(needle) != std::string::npos;
}

}  // namespace fleet::test

// CHECK(some_result) shows the error, not "{?}".
namespace Catch {
template <class T>
struct StringMaker<fleet::Result<T>> {
    static std::string convert(const fleet::Result<T>& r)
    {
        return r ? std::string("ok") : "error: " + r.error().what();
    }
};
}  // namespace Catch
