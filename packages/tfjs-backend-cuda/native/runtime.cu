// Device, stream, memory and transfers. In the emulation build "device memory" is host memory.
#include "runtime.hpp"

#include <cstdlib>
#include <cstring>

namespace rt {

#ifdef __CUDACC__
static cudaStream_t g_stream = nullptr;
static int g_device = -1;

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) {
    throw Error(std::string(what) + ": " + cudaGetErrorName(status) + " (" + cudaGetErrorString(status) + ")");
  }
}

void check_launch(const char* what) { check(cudaGetLastError(), what); }

cudaStream_t stream() { return g_stream; }

InitResult init() {
  InitResult result;
  int runtime = 0;
  cudaRuntimeGetVersion(&runtime);
  result.runtime_version = runtime;
  int driver = 0;
  cudaDriverGetVersion(&driver);
  result.driver_version = driver;
  int count = 0;
  cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    result.error = std::string("cudaGetDeviceCount: ") + cudaGetErrorName(status) + " (" + cudaGetErrorString(status) + ")";
    cudaGetLastError();  // clear the sticky error so a later retry can succeed
    return result;
  }
  result.device_count = count;
  if (count == 0) {
    result.error = "no CUDA device found";
    return result;
  }
  if (g_device < 0) {
    check(cudaSetDevice(0), "cudaSetDevice(0)");
    check(cudaStreamCreateWithFlags(&g_stream, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
    g_device = 0;
  }
  cudaDeviceProp prop;
  check(cudaGetDeviceProperties(&prop, g_device), "cudaGetDeviceProperties");
  result.name = prop.name;
  result.major = prop.major;
  result.minor = prop.minor;
  result.multiprocessors = prop.multiProcessorCount;
  result.memory_bytes = (double)prop.totalGlobalMem;
  result.emulated = false;
  return result;
}

void* malloc_device(size_t bytes) {
  void* ptr = nullptr;
  cudaError_t status = cudaMalloc(&ptr, bytes ? bytes : 1);
  if (status == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    throw OutOfMemory("cudaMalloc(" + std::to_string(bytes) + " bytes): out of device memory");
  }
  check(status, "cudaMalloc");
  return ptr;
}
void free_device(void* ptr) { check(cudaFree(ptr), "cudaFree"); }
void upload(void* dst, const void* src, size_t bytes) {
  if (bytes) check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, g_stream), "cudaMemcpyAsync(host to device)");
}
void download(void* dst, const void* src, size_t bytes) {
  if (bytes) check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, g_stream), "cudaMemcpyAsync(device to host)");
  check(cudaStreamSynchronize(g_stream), "cudaStreamSynchronize");
}
void copy_device(void* dst, const void* src, size_t bytes) {
  if (bytes) check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, g_stream), "cudaMemcpyAsync(device to device)");
}
void memset_device(void* dst, int value, size_t bytes) {
  if (bytes) check(cudaMemsetAsync(dst, value, bytes, g_stream), "cudaMemsetAsync");
}
void synchronize() { check(cudaStreamSynchronize(g_stream), "cudaStreamSynchronize"); }
void mem_info(double* free_bytes, double* total_bytes) {
  size_t f = 0, t = 0;
  check(cudaMemGetInfo(&f, &t), "cudaMemGetInfo");
  *free_bytes = (double)f;
  *total_bytes = (double)t;
}
#else
InitResult init() {
  InitResult result;
  result.device_count = 1;
  result.name = "host emulation (no GPU; for tests only)";
  result.emulated = true;
  result.memory_bytes = 0;
  return result;
}
void* malloc_device(size_t bytes) {
  // 256-byte alignment, like cudaMalloc.
  void* ptr = std::aligned_alloc(256, ((bytes ? bytes : 1) + 255) / 256 * 256);
  if (!ptr) throw OutOfMemory("emulated device allocation of " + std::to_string(bytes) + " bytes failed");
  return ptr;
}
void free_device(void* ptr) { std::free(ptr); }
void upload(void* dst, const void* src, size_t bytes) { if (bytes) std::memcpy(dst, src, bytes); }
void download(void* dst, const void* src, size_t bytes) { if (bytes) std::memcpy(dst, src, bytes); }
void copy_device(void* dst, const void* src, size_t bytes) { if (bytes) std::memmove(dst, src, bytes); }
void memset_device(void* dst, int value, size_t bytes) { if (bytes) std::memset(dst, value, bytes); }
void synchronize() {}
void mem_info(double* free_bytes, double* total_bytes) {
  *free_bytes = 0;
  *total_bytes = 0;
}
#endif

}  // namespace rt
