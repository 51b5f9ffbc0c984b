#include "xtgrad/core/small_blocks.hpp"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
// A block on a free list is poisoned, so ASan still reports a use after free.
#define XTGRAD_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define XTGRAD_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define XTGRAD_POISON(p, n) ((void)(p), (void)(n))
#define XTGRAD_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace xtgrad {
namespace {

constexpr std::size_t kGranule = 64;       // size classes: 64, 128, ..., 1024 bytes
constexpr std::size_t kClasses = 16;
constexpr std::size_t kMaxFreePerClass = 4096;

struct FreeBlock {
  FreeBlock* next;
};

struct FreeLists;
// Set when this thread's lists have been destroyed (thread exit, or static destruction of
// the main thread): later frees go to operator delete. A plain bool has no destructor, so it
// stays readable after FreeLists is gone.
thread_local bool t_lists_destroyed = false;

struct FreeLists {
  FreeBlock* head[kClasses] = {};
  std::size_t count[kClasses] = {};
  ~FreeLists() {
    t_lists_destroyed = true;
    for (FreeBlock*& h : head) {
      while (h) {
        XTGRAD_UNPOISON(h, sizeof(FreeBlock));
        FreeBlock* next = h->next;
        ::operator delete(static_cast<void*>(h));
        h = next;
      }
    }
  }
};

thread_local FreeLists t_lists;

std::size_t size_class(std::size_t bytes) { return bytes == 0 ? 0 : (bytes - 1) / kGranule; }

}  // namespace

void* allocate_small_block(std::size_t bytes) {
  const std::size_t c = size_class(bytes);
  if (c >= kClasses) return ::operator new(bytes);
  if (!t_lists_destroyed) {
    FreeLists& lists = t_lists;
    if (FreeBlock* block = lists.head[c]) {
      XTGRAD_UNPOISON(block, (c + 1) * kGranule);
      lists.head[c] = block->next;
      --lists.count[c];
      return block;
    }
  }
  return ::operator new((c + 1) * kGranule);
}

void free_small_block(void* block, std::size_t bytes) noexcept {
  if (!block) return;
  const std::size_t c = size_class(bytes);
  if (c >= kClasses || t_lists_destroyed || t_lists.count[c] >= kMaxFreePerClass) {
    ::operator delete(block);
    return;
  }
  FreeLists& lists = t_lists;
  auto* b = static_cast<FreeBlock*>(block);
  b->next = lists.head[c];
  lists.head[c] = b;
  ++lists.count[c];
  XTGRAD_POISON(block, (c + 1) * kGranule);
}

}  // namespace xtgrad
