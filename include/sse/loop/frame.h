// frame.h — an immutable, reference-counted run of bytes shared by many writers.
//
// A broadcast is serialized once into a Frame; every subscriber's OutQueue
// then holds a FrameRef to it (plus an offset) instead of a copy, so a
// 100-byte event sent to 10,000 subscribers costs 100 bytes, not 1 MB.
// HTTP responses use the same type so that one queue can hold both.
//
// The count is a plain integer, not an atomic: the server has one thread.
// A Frame is written only by whoever allocated it, before the first copy of
// its FrameRef is handed out; after that nobody changes it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <string_view>
#include <utility>

namespace sse {

class Frame {
 public:
  const char* data() const { return reinterpret_cast<const char*>(this + 1); }
  size_t size() const { return size_; }
  std::string_view view() const { return {data(), size_}; }

 private:
  friend class FrameRef;
  explicit Frame(size_t size) : size_(size) {}
  char* bytes() { return reinterpret_cast<char*>(this + 1); }

  uint32_t refs_ = 1;
  size_t size_;
};

// Owning handle to a Frame. Copying it adds a reference; the last one frees.
class FrameRef {
 public:
  FrameRef() = default;
  ~FrameRef() { release(); }
  FrameRef(const FrameRef& other) : frame_(other.frame_) {
    if (frame_) ++frame_->refs_;
  }
  FrameRef(FrameRef&& other) noexcept : frame_(std::exchange(other.frame_, nullptr)) {}
  FrameRef& operator=(FrameRef other) noexcept {
    std::swap(frame_, other.frame_);
    return *this;
  }

  // A new frame of `size` bytes; fill it through `writable()` before sharing.
  static FrameRef allocate(size_t size) {
    void* memory = ::operator new(sizeof(Frame) + size);
    FrameRef ref;
    ref.frame_ = new (memory) Frame(size);
    return ref;
  }
  static FrameRef copy_of(std::string_view bytes) {
    FrameRef ref = allocate(bytes.size());
    if (!bytes.empty()) std::memcpy(ref.writable(), bytes.data(), bytes.size());
    return ref;
  }

  char* writable() { return frame_->bytes(); }
  const Frame* get() const { return frame_; }
  const Frame* operator->() const { return frame_; }
  explicit operator bool() const { return frame_ != nullptr; }
  uint32_t use_count() const { return frame_ ? frame_->refs_ : 0; }

 private:
  void release() {
    if (frame_ && --frame_->refs_ == 0) {
      frame_->~Frame();
      ::operator delete(frame_);
    }
    frame_ = nullptr;
  }

  Frame* frame_ = nullptr;
};

}  // namespace sse
