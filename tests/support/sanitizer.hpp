#pragma once
// Whether this test binary runs under a sanitizer. Their allocators keep freed memory in
// quarantine and add shadow memory, so resident-set growth measures the sanitizer, not corm;
// the memory-flatness checks are left to normal builds, and LeakSanitizer checks leaks instead.

namespace corm::test {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool memory_is_instrumented = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool memory_is_instrumented = true;
#else
inline constexpr bool memory_is_instrumented = false;
#endif
#else
inline constexpr bool memory_is_instrumented = false;
#endif

}  // namespace corm::test
