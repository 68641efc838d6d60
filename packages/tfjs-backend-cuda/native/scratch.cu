#include "scratch.hpp"

#include "runtime.hpp"

namespace scratch {
namespace {
void* g_ptr[kSlots] = {};
size_t g_size[kSlots] = {};
}  // namespace

void* get(Slot slot, size_t bytes) {
  if (bytes <= g_size[slot]) return g_ptr[slot];
  if (g_ptr[slot]) {
    rt::synchronize();
    rt::free_device(g_ptr[slot]);
    g_ptr[slot] = nullptr;
    g_size[slot] = 0;
  }
  // Grow by half again, so that slowly growing requests do not reallocate each time.
  size_t size = bytes + bytes / 2;
  g_ptr[slot] = rt::malloc_device(size);
  g_size[slot] = size;
  return g_ptr[slot];
}

size_t held() {
  size_t total = 0;
  for (size_t s : g_size) total += s;
  return total;
}

void release() {
  rt::synchronize();
  for (int s = 0; s < kSlots; ++s) {
    if (g_ptr[s]) rt::free_device(g_ptr[s]);
    g_ptr[s] = nullptr;
    g_size[s] = 0;
  }
}
}  // namespace scratch
