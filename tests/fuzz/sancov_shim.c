/* fleet fuzzing — let GCC-instrumented code drive libFuzzer.
 *
 * GCC has no -fsanitize=fuzzer. It does have -fsanitize-coverage=trace-pc
 * (a call to __sanitizer_cov_trace_pc in every basic block) and trace-cmp
 * (comparison operands), but the libFuzzer of LLVM 14 refuses trace-pc. This
 * file turns trace-pc into what libFuzzer does read: a table of inline 8-bit
 * counters (one per hashed caller address) and the matching PC table.
 * libFuzzer's own __sanitizer_cov_trace_pc is weakened by objcopy when the
 * runtime is copied into the build (tests/fuzz/meson.build), so this strong
 * definition wins. Compiled without coverage instrumentation (it is C, and
 * the coverage flags are given to C++ only).
 */
#include <stddef.h>
#include <stdint.h>

#define SLOTS (1u << 16)

static uint8_t counters[SLOTS];
static uintptr_t pcs[2 * SLOTS]; /* pairs: PC, flags */

void __sanitizer_cov_8bit_counters_init(uint8_t* start, uint8_t* stop);
void __sanitizer_cov_pcs_init(const uintptr_t* start, const uintptr_t* stop);
void __sanitizer_cov_trace_pc(void);
void __sanitizer_cov_trace_cmpf(float a, float b);
void __sanitizer_cov_trace_cmpd(double a, double b);

__attribute__((constructor)) static void register_counters(void)
{
    __sanitizer_cov_8bit_counters_init(counters, counters + SLOTS);
    __sanitizer_cov_pcs_init(pcs, pcs + 2 * SLOTS);
}

__attribute__((no_sanitize_address, no_sanitize_undefined)) void __sanitizer_cov_trace_pc(void)
{
    uintptr_t pc = (uintptr_t)__builtin_return_address(0);
    size_t slot = (size_t)((pc ^ (pc >> 16)) & (SLOTS - 1));
    counters[slot]++;
    if (pcs[2 * slot] == 0) pcs[2 * slot] = pc;
}

/* GCC's trace-cmp also reports floating-point comparisons; libFuzzer has no
 * use for them. */
void __sanitizer_cov_trace_cmpf(float a, float b)
{
    (void)a;
    (void)b;
}

void __sanitizer_cov_trace_cmpd(double a, double b)
{
    (void)a;
    (void)b;
}
