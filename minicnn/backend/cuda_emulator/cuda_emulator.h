// cuda_emulator.h: compile CUDA kernels with g++ and run them on the CPU.
//
// A .cu file compiles unchanged after this header (driver.py writes the translation unit
// and the extern "C" entry points; __init__.py explains the whole emulator). What the header
// does, section by section:
//
//   1. CUDA's keywords become plain C++: __global__ and __device__ vanish, __shared__ is
//      `static` (one copy, used by one block at a time, since blocks run one after another).
//   2. threadIdx, blockIdx, blockDim and gridDim are variables that the scheduler sets.
//   3. The device functions the kernels call: math, atomics, __dp4a, printf, assert.
//   4. The scheduler. The threads of a block are fibers, each with a stack of its own. A
//      phase runs every thread, one after another, until it returns or reaches
//      __syncthreads(); when all of them wait at the same barrier, the next phase starts.
//      A barrier that some threads reach while others have returned, or two different
//      barriers, is an error, not a hang. A fiber is entered once per launch with ucontext
//      and then switched with _setjmp/_longjmp: the prototype behind issue 13 measured 70-120
//      ns a thread this way against 430 ns with swapcontext, which also saves the signal mask
//      with a system call. That needs a build without _FORTIFY_SOURCE, whose longjmp refuses
//      to jump to another stack.
//   5. With MINICNN_EMULATOR_OS_THREADS defined, every CUDA thread is an OS thread instead,
//      and __syncthreads() a real barrier: slower, but ThreadSanitizer can watch it.
//   6. launch() and parameters(): what each generated entry point calls.
#pragma once

// Only light standard headers: every emulated module compiles this file afresh, and <random>,
// <functional>, <string> and <vector> would double the time it takes.
#include <atomic>
#include <cassert>
#include <cfloat>
#include <climits>
#include <cmath>
#include <concepts>
#include <csetjmp>
#include <csignal>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <utility>
#include <math.h>          // the float overloads of exp, log, sqrt... in the global namespace
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>
#ifdef MINICNN_EMULATOR_OS_THREADS
#include <condition_variable>
#include <mutex>
#include <thread>
#endif

// ---- 1. Keywords --------------------------------------------------------------------------

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
#define __shared__ static

// ---- 2. Thread and block indices ----------------------------------------------------------

struct uint3 { unsigned int x, y, z; };
struct dim3 {
    unsigned int x, y, z;
    constexpr dim3(unsigned int x = 1, unsigned int y = 1, unsigned int z = 1) : x(x), y(y), z(z) {}
};

namespace emu {
#ifdef MINICNN_EMULATOR_OS_THREADS
#define EMU_PER_THREAD thread_local
#else
#define EMU_PER_THREAD      // fibers share one OS thread: the scheduler sets these on a switch
#endif
inline EMU_PER_THREAD uint3 thread_index, block_index;
inline dim3 block_dim, grid_dim;
}  // namespace emu

// Read-only, as in CUDA.
#define threadIdx (static_cast<const uint3&>(emu::thread_index))
#define blockIdx (static_cast<const uint3&>(emu::block_index))
#define blockDim (static_cast<const dim3&>(emu::block_dim))
#define gridDim (static_cast<const dim3&>(emu::grid_dim))

// ---- 3. Device functions ------------------------------------------------------------------

namespace emu {
[[noreturn]] inline void fail(const char* format, ...);   // ends the calling thread with an error
inline void syncthreads(int line);
inline int device_printf(const char* format, ...);
}  // namespace emu

#define __syncthreads() emu::syncthreads(__LINE__)
#define __threadfence() std::atomic_thread_fence(std::memory_order_seq_cst)
#define __threadfence_block() std::atomic_thread_fence(std::memory_order_seq_cst)
#define __trap() emu::fail("__trap() called (%s:%d)", __FILE__, __LINE__)
#undef assert
#define assert(condition) \
    ((condition) ? void(0) : emu::fail("assertion failed: %s (%s:%d)", #condition, __FILE__, __LINE__))
// Like CUDA's, device printf is buffered and shown when the launch ends (driver.py prints it).
#define printf emu::device_printf

// CUDA's min and max take any two arithmetic types; floating ones follow fmin/fmax (a NaN
// loses to a number).
template <typename A, typename B>
inline std::common_type_t<A, B> min(A a, B b) {
    using T = std::common_type_t<A, B>;
    if constexpr (std::is_floating_point_v<T>) return std::fmin(T(a), T(b));
    else return T(a) < T(b) ? T(a) : T(b);
}
template <typename A, typename B>
inline std::common_type_t<A, B> max(A a, B b) {
    using T = std::common_type_t<A, B>;
    if constexpr (std::is_floating_point_v<T>) return std::fmax(T(a), T(b));
    else return T(a) < T(b) ? T(b) : T(a);
}

// CUDA-only math; exp, log, sqrt, tanh, erf... come from <math.h> (built with
// -ffp-contract=off: nvcc fuses a * b + c into an FMA and has its own exp and log, so tests
// compare with a tolerance).
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __fdividef(float x, float y) { return x / y; }
template <typename T> inline T __ldg(const T* address) { return *address; }

// atomicAdd for the types CUDA has it for; returns the old value. std::atomic_ref makes it
// atomic in the OS-thread build too.
template <typename T>
concept atomic_add_type = std::same_as<T, int> || std::same_as<T, unsigned int> ||
    std::same_as<T, unsigned long long> || std::same_as<T, float> || std::same_as<T, double>;

template <atomic_add_type T>
inline T atomicAdd(T* address, std::type_identity_t<T> value) {
    return std::atomic_ref<T>(*address).fetch_add(value);
}

// __dp4a: c plus the dot product of the four 8-bit lanes of a and b (signed or unsigned),
// the int8 inner product of sm_61 and later. Sums wrap around as on the GPU.
inline int __dp4a(int a, int b, int c) {
    unsigned int sum = unsigned(c);
    for (int lane = 0; lane < 4; ++lane)
        sum += unsigned(int(std::int8_t(a >> 8 * lane)) * int(std::int8_t(b >> 8 * lane)));
    return int(sum);
}
inline unsigned int __dp4a(unsigned int a, unsigned int b, unsigned int c) {
    for (int lane = 0; lane < 4; ++lane)
        c += ((a >> 8 * lane) & 0xFFu) * ((b >> 8 * lane) & 0xFFu);
    return c;
}

// Warp intrinsics need the 32 threads of a warp to run in lockstep, which fibers do not:
// using one is a compile error ("use of deleted function") rather than a wrong result.
template <typename... A> void __syncwarp(A...) = delete;
template <typename... A> void __shfl_sync(A...) = delete;
template <typename... A> void __shfl_up_sync(A...) = delete;
template <typename... A> void __shfl_down_sync(A...) = delete;
template <typename... A> void __shfl_xor_sync(A...) = delete;
template <typename... A> void __ballot_sync(A...) = delete;
template <typename... A> void __any_sync(A...) = delete;
template <typename... A> void __all_sync(A...) = delete;

// ---- 4. The scheduler ---------------------------------------------------------------------

namespace emu {

// One launch, as driver.py fills it in (its ctypes Structure lists the same fields).
struct LaunchConfig {
    unsigned int grid[3], block[3];
    unsigned long long dynamic_shared_bytes;
    int thread_order;                 // 0: thread 0 first, 1: last thread first, 2: shuffled
    unsigned int seed;                // of the shuffles
    int static_shared_count;          // the kernel's __shared__ arrays, poisoned for each block
    void* const* static_shared;
    const unsigned long long* static_shared_bytes;
};

// Fresh shared memory holds whatever the last block left; filling it with 0xFF bytes (NaN as
// float or double, -1 as an integer) makes a read before any write visible in the results.
constexpr unsigned char poison = 0xFF;
constexpr std::size_t dynamic_shared_guard = 1024;   // bytes watched on each side
constexpr std::size_t output_limit = 1 << 20;        // as CUDA's printf buffer, 1 MiB

inline const LaunchConfig* config;
inline void (*run_kernel)(const void* call);    // runs kernel_call: the kernel and its arguments
inline const void* kernel_call;
inline char error[1024];                         // the launch's first error, "" while all is well
inline char output[output_limit];                // what device printf wrote
inline std::size_t output_bytes;
inline unsigned char* dynamic_shared;            // guard, the launch's bytes, guard
inline std::size_t dynamic_shared_total;

inline unsigned char* dynamic_shared_memory() { return dynamic_shared + dynamic_shared_guard; }

#ifdef MINICNN_EMULATOR_OS_THREADS
inline std::mutex guard;      // guards error, output and the barrier
#define EMU_LOCKED std::lock_guard<std::mutex> held(guard)
#else
#define EMU_LOCKED            // fibers take turns: nothing else runs meanwhile
#endif

// Records the launch's first error (the caller holds the lock); `thread`, when given, is named
// with its block.
inline void report(const uint3* thread, const char* format, ...) {
    if (error[0]) return;
    va_list arguments;
    va_start(arguments, format);
    const int length = std::vsnprintf(error, sizeof error, format, arguments);
    va_end(arguments);
    if (thread && length >= 0 && std::size_t(length) < sizeof error)
        std::snprintf(error + length, sizeof error - length, " in thread (%u, %u, %u) of block (%u, %u, %u)",
                      thread->x, thread->y, thread->z, block_index.x, block_index.y, block_index.z);
}

inline void report_unreached_barrier(int line, int waiting, int threads) {
    report(nullptr, "__syncthreads() at line %d was reached by %d of the %d threads of block "
           "(%u, %u, %u); the others had returned, and a barrier waits for every thread",
           line, waiting, threads, block_index.x, block_index.y, block_index.z);
}

inline int device_printf(const char* format, ...) {
    char line[1024];
    va_list arguments;
    va_start(arguments, format);
    const int length = std::vsnprintf(line, sizeof line, format, arguments);
    va_end(arguments);
    const std::size_t bytes = std::strlen(line);
    EMU_LOCKED;
    if (output_bytes + bytes <= output_limit) {
        std::memcpy(output + output_bytes, line, bytes);
        output_bytes += bytes;
    }
    return length;
}

[[noreturn]] inline void stop_failed_thread();    // each build's own way to end a thread

[[noreturn]] inline void fail(const char* format, ...) {
    char text[512];
    va_list arguments;
    va_start(arguments, format);
    std::vsnprintf(text, sizeof text, format, arguments);
    va_end(arguments);
    EMU_LOCKED;
    const uint3 thread = thread_index;
    report(&thread, "%s", text);
    stop_failed_thread();
}

inline void start_block(unsigned int linear_block) {
    const dim3& grid = grid_dim;
    block_index = {linear_block % grid.x, linear_block / grid.x % grid.y, linear_block / grid.x / grid.y};
    for (int k = 0; k < config->static_shared_count; ++k)
        std::memset(config->static_shared[k], poison, config->static_shared_bytes[k]);
    std::memset(dynamic_shared, poison, dynamic_shared_total);
}

inline bool dynamic_shared_guards_intact() {
    const std::size_t end = dynamic_shared_guard + config->dynamic_shared_bytes;
    for (std::size_t k = 0; k < dynamic_shared_total; ++k)
        if ((k < dynamic_shared_guard || k >= end) && dynamic_shared[k] != poison) {
            report(nullptr, "wrote outside its dynamic shared memory (extern __shared__, %llu bytes) "
                   "in block (%u, %u, %u)", config->dynamic_shared_bytes, block_index.x,
                   block_index.y, block_index.z);
            return false;
        }
    return true;
}

inline uint3 thread_of(unsigned int t) {
    const dim3& block = block_dim;
    return {t % block.x, t / block.x % block.y, t / block.x / block.y};
}

#ifndef MINICNN_EMULATOR_OS_THREADS

enum class State { running, at_barrier, returned, failed };

struct Fiber {
    jmp_buf resume;           // where the thread goes on when it is next scheduled
    uint3 index;
    State state = State::returned;
    int barrier_line = 0;
};

inline jmp_buf to_scheduler;  // where a fiber jumps to when it stops
inline Fiber* current;
constexpr std::size_t stack_bytes = 256 << 10;   // touched pages only are ever allocated

// Each fiber runs this on its own stack, once per launch: it stops at once, and each time the
// scheduler resumes it, it runs the kernel for the next block.
inline void fiber_main() {
    Fiber* self = current;
    for (;;) {
        self->state = State::returned;
        if (!_setjmp(self->resume)) _longjmp(to_scheduler, 1);
        run_kernel(kernel_call);
    }
}

__attribute__((noinline)) inline void start(Fiber& fiber, char* stack) {
    ucontext_t context;
    getcontext(&context);
    context.uc_stack.ss_sp = stack;
    context.uc_stack.ss_size = stack_bytes;
    context.uc_link = nullptr;
    makecontext(&context, fiber_main, 0);
    current = &fiber;
    if (!_setjmp(to_scheduler)) setcontext(&context);
}

__attribute__((noinline)) inline void switch_to(Fiber& fiber) {
    current = &fiber;
    thread_index = fiber.index;
    fiber.state = State::running;
    if (!_setjmp(to_scheduler)) _longjmp(fiber.resume, 1);
}

inline void syncthreads(int line) {
    Fiber* self = current;
    self->barrier_line = line;
    self->state = State::at_barrier;
    if (!_setjmp(self->resume)) _longjmp(to_scheduler, 1);
}

[[noreturn]] inline void stop_failed_thread() {
    current->state = State::failed;       // never resumed
    _longjmp(to_scheduler, 1);
}

// The order in which a phase runs the threads: a missing barrier shows as a wrong result when
// a thread runs before the threads whose writes it needs, which some order brings about.
inline void phase_order(int* order, int threads, unsigned int block, int phase) {
    for (int t = 0; t < threads; ++t) order[t] = config->thread_order == 1 ? threads - 1 - t : t;
    if (config->thread_order != 2) return;
    // Fisher-Yates with xorshift64: another repeatable order for every seed, block and phase.
    std::uint64_t state = (config->seed + 1ull) * 0x9E3779B97F4A7C15ull ^ (std::uint64_t(block) << 32) ^ phase;
    for (int t = threads - 1; t > 0; --t) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        std::swap(order[t], order[state % std::uint64_t(t + 1)]);
    }
}

// Runs one block to its end; false (with `error` set) when it cannot end.
inline bool run_block(Fiber* fibers, int* order, int threads, unsigned int block) {
    for (int phase = 0;; ++phase) {
        phase_order(order, threads, block, phase);
        for (int k = 0; k < threads; ++k) {
            if (error[0]) return false;           // a failed assert ends the launch
            Fiber& fiber = fibers[order[k]];
            if (phase == 0 || fiber.state == State::at_barrier) switch_to(fiber);
        }
        if (error[0]) return false;
        int waiting = 0, first = -1;
        for (int t = 0; t < threads; ++t) {
            if (fibers[t].state != State::at_barrier) continue;
            ++waiting;
            if (first < 0) first = t;
            if (fibers[t].barrier_line != fibers[first].barrier_line) {
                report(&fibers[t].index, "threads wait at different __syncthreads() (lines %d and %d)",
                       fibers[first].barrier_line, fibers[t].barrier_line);
                return false;
            }
        }
        if (waiting == 0) return true;
        if (waiting < threads) {
            report_unreached_barrier(fibers[first].barrier_line, waiting, threads);
            return false;
        }
    }
}

// A wild read or write (an index far outside every array) ends the launch with an error, as
// CUDA's "illegal memory access" does, instead of ending the Python process.
inline sigjmp_buf on_crash;
inline void* crash_address;

inline void crash_handler(int, siginfo_t* info, void*) {
    crash_address = info->si_addr;
    siglongjmp(on_crash, 1);
}

inline void run_grid(unsigned int blocks, int threads) {
    const std::size_t page = std::size_t(sysconf(_SC_PAGESIZE));
    const std::size_t slot = stack_bytes + page;            // a stack and the page that guards it
    char* stacks = static_cast<char*>(mmap(nullptr, slot * threads, PROT_READ | PROT_WRITE,
                                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0));
    if (stacks == MAP_FAILED) {
        report(nullptr, "could not allocate the stacks of %d threads", threads);
        return;
    }
    Fiber* fibers = new Fiber[threads];
    int* order = new int[threads];

    static char signal_stack[1 << 16];
    stack_t handler_stack{}, previous_stack;
    handler_stack.ss_sp = signal_stack;
    handler_stack.ss_size = sizeof signal_stack;
    struct sigaction on_fault{}, previous_segv, previous_bus;
    on_fault.sa_sigaction = crash_handler;
    on_fault.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaltstack(&handler_stack, &previous_stack);
    sigaction(SIGSEGV, &on_fault, &previous_segv);
    sigaction(SIGBUS, &on_fault, &previous_bus);

    if (sigsetjmp(on_crash, 1) == 0) {
        for (int t = 0; t < threads; ++t) {
            mprotect(stacks + t * slot, page, PROT_NONE);
            fibers[t].index = thread_of(unsigned(t));
            start(fibers[t], stacks + t * slot + page);
        }
        for (unsigned int b = 0; b < blocks; ++b) {
            start_block(b);
            if (!run_block(fibers, order, threads, b) || !dynamic_shared_guards_intact()) break;
        }
    } else {
        const uint3 thread = thread_index;
        report(&thread, "illegal memory access at address %p (an index far outside every array, "
               "or a stack overflow)", crash_address);
    }
    sigaction(SIGSEGV, &previous_segv, nullptr);
    sigaction(SIGBUS, &previous_bus, nullptr);
    sigaltstack(&previous_stack, nullptr);
    delete[] order;
    delete[] fibers;
    munmap(stacks, slot * threads);
}

#else  // ---- 5. One OS thread per CUDA thread ---------------------------------------------

struct Aborted {};            // thrown to end a thread once the launch has failed

struct Barrier {
    std::condition_variable wake;
    int threads = 0, waiting = 0, returned = 0, line = 0;
    unsigned long generation = 0;
    bool broken = false;

    // Called with `guard` held whenever a thread arrives or returns.
    void settle() {
        if (waiting == 0 || waiting + returned < threads) return;
        if (returned > 0) {
            report_unreached_barrier(line, waiting, threads);
            broken = true;
        }
        waiting = 0;
        ++generation;
        wake.notify_all();
    }
};
inline Barrier barrier;

inline void syncthreads(int line) {
    std::unique_lock<std::mutex> held(guard);
    if (barrier.broken) throw Aborted{};
    if (barrier.waiting > 0 && barrier.line != line) {
        const uint3 thread = thread_index;
        report(&thread, "threads wait at different __syncthreads() (lines %d and %d)", barrier.line, line);
        barrier.broken = true;
        barrier.wake.notify_all();
        throw Aborted{};
    }
    barrier.line = line;
    ++barrier.waiting;
    const unsigned long generation = barrier.generation;
    barrier.settle();
    barrier.wake.wait(held, [&] { return barrier.generation != generation || barrier.broken; });
    if (barrier.broken) throw Aborted{};
}

[[noreturn]] inline void stop_failed_thread() {      // called with `guard` held
    barrier.broken = true;
    barrier.wake.notify_all();
    throw Aborted{};
}

inline void run_grid(unsigned int blocks, int threads) {
    std::thread* workers = new std::thread[threads];
    for (unsigned int b = 0; b < blocks && !error[0]; ++b) {
        start_block(b);
        const uint3 block = block_index;
        barrier.threads = threads;
        barrier.waiting = barrier.returned = 0;
        barrier.broken = false;
        for (int t = 0; t < threads; ++t)
            workers[t] = std::thread([t, block] {
                thread_index = thread_of(unsigned(t));
                block_index = block;
                try { run_kernel(kernel_call); } catch (const Aborted&) {}
                std::lock_guard<std::mutex> held(guard);
                ++barrier.returned;
                barrier.settle();
            });
        for (int t = 0; t < threads; ++t) workers[t].join();
        if (!error[0]) dynamic_shared_guards_intact();
    }
    delete[] workers;
}

#endif

// ---- 6. Entry points ----------------------------------------------------------------------

// How one kernel parameter is passed: a pointer to elements, or a scalar, of NumPy's dtype
// kind ('f' floating, 'i' signed, 'u' unsigned, 'b' bool, 'V' anything else) and byte size.
struct Parameter {
    char pointer, kind, is_const;
    int size;
};

template <typename T>
constexpr char kind_of() {
    if constexpr (std::is_same_v<T, bool>) return 'b';
    else if constexpr (std::is_floating_point_v<T>) return 'f';
    else if constexpr (std::is_integral_v<T>) return std::is_signed_v<T> ? 'i' : 'u';
    else return 'V';
}

template <typename P>
constexpr Parameter describe() {
    if constexpr (std::is_pointer_v<P>) {
        using Element = std::remove_pointer_t<P>;
        return {1, kind_of<std::remove_cv_t<Element>>(), std::is_const_v<Element>,
                int(sizeof(std::conditional_t<std::is_void_v<Element>, char, Element>))};
    } else {
        return {0, kind_of<P>(), 0, int(sizeof(P))};
    }
}

// The parameter list of a kernel, read off its function type by the compiler.
template <typename... P>
const Parameter* parameters(void (*)(P...), int* count) {
    static constexpr Parameter list[] = {describe<P>()..., Parameter{}};
    *count = int(sizeof...(P));
    return list;
}

// A kernel with its arguments: what every thread runs.
template <typename... P>
struct Call {
    void (*kernel)(P...);
    std::tuple<P...> arguments;

    static void run(const void* call) {
        const Call& self = *static_cast<const Call*>(call);
        std::apply(self.kernel, self.arguments);
    }
};

// Runs kernel<<<grid, block, dynamic_shared_bytes>>> with args[k] pointing at the k-th
// argument's value (cudaLaunchKernel's convention); 0 on success, else 1 and `message`.
template <typename... P, std::size_t... K>
int launch(void (*kernel)(P...), void* const* args, const LaunchConfig& launch_config,
           char* message, std::size_t message_size, std::index_sequence<K...>) {
    const Call<P...> call{kernel, {*static_cast<P*>(args[K])...}};
    config = &launch_config;
    grid_dim = dim3(launch_config.grid[0], launch_config.grid[1], launch_config.grid[2]);
    block_dim = dim3(launch_config.block[0], launch_config.block[1], launch_config.block[2]);
    run_kernel = &Call<P...>::run;
    kernel_call = &call;
    error[0] = '\0';
    dynamic_shared_total = launch_config.dynamic_shared_bytes + 2 * dynamic_shared_guard;
    dynamic_shared = static_cast<unsigned char*>(std::malloc(dynamic_shared_total));
    run_grid(grid_dim.x * grid_dim.y * grid_dim.z, int(block_dim.x * block_dim.y * block_dim.z));
    std::free(dynamic_shared);
    std::snprintf(message, message_size, "%s", error);
    return error[0] ? 1 : 0;
}

template <typename... P>
int launch(void (*kernel)(P...), void* const* args, const LaunchConfig& launch_config,
           char* message, std::size_t message_size) {
    return launch(kernel, args, launch_config, message, message_size, std::index_sequence_for<P...>{});
}

}  // namespace emu

// The library's only visible symbols (it is built with -fvisibility=hidden, see build.py):
// the entry points that driver.py generates, and these.
#define EMU_EXPORT extern "C" __attribute__((visibility("default")))
EMU_EXPORT std::size_t minicnn_emu_config_bytes() { return sizeof(emu::LaunchConfig); }
EMU_EXPORT std::size_t minicnn_emu_output_bytes() { return emu::output_bytes; }
EMU_EXPORT void minicnn_emu_take_output(char* buffer) {      // buffer: output_bytes() long
    std::memcpy(buffer, emu::output, emu::output_bytes);
    emu::output_bytes = 0;
}
