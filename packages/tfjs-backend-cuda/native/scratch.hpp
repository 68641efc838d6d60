// Per-purpose scratch buffers on the device, grown on demand and reused: with one stream, work
// queued later cannot overtake the work still reading a buffer.
#pragma once
#include <cstddef>

namespace scratch {
enum Slot { kReduce = 0, kColumns, kGemm, kStats, kSlots };
void* get(Slot slot, size_t bytes);
/** Bytes held by all slots. */
size_t held();
/** Frees every slot (after the stream is idle). */
void release();
}  // namespace scratch
