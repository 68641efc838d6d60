#pragma once
#include <string>

#include "rt.hpp"

namespace rt {

/** Thrown when the device has no room; the allocator frees its cache and retries once. */
struct OutOfMemory : Error {
  using Error::Error;
};

struct InitResult {
  int device_count = 0;
  std::string error;  // empty when a device is usable
  std::string name;
  int major = 0, minor = 0, multiprocessors = 0;
  double memory_bytes = 0;
  int runtime_version = 0, driver_version = 0;
  bool emulated = false;
};

/** Finds device 0 and creates the backend's stream (once). Never throws for a missing GPU. */
InitResult init();
void mem_info(double* free_bytes, double* total_bytes);

}  // namespace rt
