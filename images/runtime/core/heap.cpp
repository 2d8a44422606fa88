// fleet runtime: the heap (see heap.hpp).
#include "core/heap.hpp"

#include "rt.hpp"

namespace rt {
namespace {

struct Block {
    size_t size;  // bytes including this header; multiple of 16
    Block* next;  // free list only
};
constexpr size_t hdr = 16;
Block* free_list;

void free_block(Block* b)
{
    Block* prev = nullptr;
    Block* cur = free_list;
    while (cur && cur < b) {
        prev = cur;
        cur = cur->next;
    }
    b->next = cur;
    if (prev)
        prev->next = b;
    else
        free_list = b;
    if (cur && reinterpret_cast<char*>(b) + b->size == reinterpret_cast<char*>(cur)) {
        b->size += cur->size;
        b->next = cur->next;
    }
    if (prev && reinterpret_cast<char*>(prev) + prev->size == reinterpret_cast<char*>(b)) {
        prev->size += b->size;
        prev->next = b->next;
    }
}

}  // namespace

void heap_add(uintptr_t start, uintptr_t end)
{
    start = (start + 15) & ~uintptr_t(15);
    end &= ~uintptr_t(15);
    if (end <= start + 4096) return;
    Block* b = reinterpret_cast<Block*>(start);
    b->size = static_cast<size_t>(end - start);
    free_block(b);
}

void heap_init(uintptr_t start, uintptr_t end)
{
    free_list = nullptr;
    heap_add(start, end);
}

void* malloc(size_t n)
{
    size_t need = ((n + 15) & ~size_t(15)) + hdr;
    if (n > (size_t(1) << 40)) return nullptr;
    Block* prev = nullptr;
    for (Block* b = free_list; b; prev = b, b = b->next) {
        if (b->size < need) continue;
        if (b->size - need >= 64) {  // split: hand out the front
            Block* rest = reinterpret_cast<Block*>(reinterpret_cast<char*>(b) + need);
            rest->size = b->size - need;
            rest->next = b->next;
            b->size = need;
            if (prev)
                prev->next = rest;
            else
                free_list = rest;
        } else if (prev) {
            prev->next = b->next;
        } else {
            free_list = b->next;
        }
        return reinterpret_cast<char*>(b) + hdr;
    }
    return nullptr;
}

void free(void* p)
{
    if (p) free_block(reinterpret_cast<Block*>(static_cast<char*>(p) - hdr));
}

void* calloc(size_t count, size_t size)
{
    if (size && count > static_cast<size_t>(-1) / size) return nullptr;
    void* p = malloc(count * size);
    if (p) memset(p, 0, count * size);
    return p;
}

void* realloc(void* p, size_t n)
{
    if (!p) return malloc(n);
    Block* b = reinterpret_cast<Block*>(static_cast<char*>(p) - hdr);
    if (b->size - hdr >= n) return p;
    void* q = malloc(n);
    if (!q) return nullptr;
    memcpy(q, p, b->size - hdr);
    free(p);
    return q;
}

void* aligned_alloc(size_t align, size_t n)
{
    if (align <= 16) return malloc(n);
    // Over-allocate, then give the unaligned front back to the free list.
    char* raw = static_cast<char*>(malloc(n + align + 64));
    if (!raw) return nullptr;
    Block* b = reinterpret_cast<Block*>(raw - hdr);
    uintptr_t user = (reinterpret_cast<uintptr_t>(raw) + 64 + align - 1) & ~(uintptr_t(align) - 1);
    Block* nb = reinterpret_cast<Block*>(user - hdr);
    size_t front = reinterpret_cast<uintptr_t>(nb) - reinterpret_cast<uintptr_t>(b);
    nb->size = b->size - front;
    b->size = front;
    free_block(b);
    return reinterpret_cast<void*>(user);
}

size_t heap_free()
{
    size_t n = 0;
    for (Block* b = free_list; b; b = b->next) n += b->size;
    return n;
}

}  // namespace rt
