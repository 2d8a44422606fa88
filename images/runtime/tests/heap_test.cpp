// The runtime's heap on a host buffer: alignment, splitting, coalescing.
#include "core/heap.hpp"
#include "rt.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <vector>

namespace {

// A fresh heap over a private 1 MiB buffer, for each test.
struct Arena {
    alignas(4096) static inline unsigned char mem[1 << 20];
    Arena() { rt::heap_init(reinterpret_cast<uintptr_t>(mem), reinterpret_cast<uintptr_t>(mem) + sizeof mem); }
    static bool inside(const void* p)
    {
        auto a = reinterpret_cast<uintptr_t>(p), b = reinterpret_cast<uintptr_t>(mem);
        return a >= b && a < b + sizeof mem;
    }
};

}  // namespace

TEST_CASE("malloc returns 16-byte aligned memory inside the heap", "[heap]")
{
    Arena arena;
    for (std::size_t n : {1u, 15u, 16u, 17u, 100u, 4096u}) {
        void* p = rt::malloc(n);
        REQUIRE(p != nullptr);
        CHECK(reinterpret_cast<uintptr_t>(p) % 16 == 0);
        CHECK(Arena::inside(p));
        std::memset(p, 0xab, n);
    }
}

TEST_CASE("freeing everything coalesces back into one block", "[heap]")
{
    Arena arena;
    std::size_t before = rt::heap_free();
    std::vector<void*> blocks;
    for (int i = 0; i < 64; ++i) blocks.push_back(rt::malloc(static_cast<std::size_t>(100 + 37 * i)));
    CHECK(rt::heap_free() < before);
    // Free in an order that needs merging with the left, the right and both.
    for (std::size_t i = 0; i < blocks.size(); i += 2) rt::free(blocks[i]);
    for (std::size_t i = 1; i < blocks.size(); i += 2) rt::free(blocks[i]);
    CHECK(rt::heap_free() == before);
    // One block again: the whole heap is available to one allocation.
    void* all = rt::malloc(before - 64);
    CHECK(all != nullptr);
}

TEST_CASE("a freed block is reused first-fit", "[heap]")
{
    Arena arena;
    void* a = rt::malloc(1000);
    void* b = rt::malloc(1000);
    rt::free(a);
    void* c = rt::malloc(500);
    CHECK(c == a);
    rt::free(b);
    rt::free(c);
}

TEST_CASE("out of memory is nullptr, not a crash", "[heap]")
{
    Arena arena;
    CHECK(rt::malloc(2u << 20) == nullptr);
    CHECK(rt::malloc(static_cast<std::size_t>(-1) / 2) == nullptr);
    CHECK(rt::calloc(static_cast<std::size_t>(-1) / 2, 4) == nullptr);
}

TEST_CASE("calloc zeroes, realloc keeps the contents", "[heap]")
{
    Arena arena;
    auto* p = static_cast<unsigned char*>(rt::malloc(256));
    std::memset(p, 0xff, 256);
    rt::free(p);
    auto* z = static_cast<unsigned char*>(rt::calloc(16, 16));
    REQUIRE(z != nullptr);
    for (int i = 0; i < 256; ++i) CHECK(z[i] == 0);
    for (int i = 0; i < 256; ++i) z[i] = static_cast<unsigned char>(i);
    auto* bigger = static_cast<unsigned char*>(rt::realloc(z, 10000));
    REQUIRE(bigger != nullptr);
    for (int i = 0; i < 256; ++i) CHECK(bigger[i] == i);
    CHECK(rt::realloc(bigger, 10) == bigger);  // shrinking keeps the block
}

TEST_CASE("aligned_alloc aligns and gives the front back", "[heap]")
{
    Arena arena;
    std::size_t before = rt::heap_free();
    void* p = rt::aligned_alloc(4096, 5000);
    REQUIRE(p != nullptr);
    CHECK(reinterpret_cast<uintptr_t>(p) % 4096 == 0);
    rt::free(p);
    CHECK(rt::heap_free() == before);
}
