// fleet runtime: the heap (heap.cpp), an address-ordered first-fit free
// list with 16-byte alignment, splitting and coalescing. The public calls
// (rt::malloc and friends) are in rt.hpp; boot hands it its region here.
// Pure: it also compiles for the host (tests/heap_test.cpp).
#pragma once

#include <stdint.h>

namespace rt {

// Makes [start, end) the heap, forgetting any earlier one.
void heap_init(uintptr_t start, uintptr_t end);
// Adds [start, end) to the free list (rounded inwards to 16 bytes; regions
// of 4 KiB or less are ignored).
void heap_add(uintptr_t start, uintptr_t end);

}  // namespace rt
