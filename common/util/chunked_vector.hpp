// SPDX-License-Identifier: GPL-2.0-or-later
// A vector that grows by whole chunks and never moves its elements: indexing is one shift
// and one mask, and growing allocates one chunk instead of copying everything. The session
// table keeps its sessions here: a std::vector of a million sessions moved 500,000 of them
// (strings and all) under the queues' lock at one doubling (issue 16).
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace sara {

template <typename T, size_t kChunkBits = 8>
class ChunkedVector {
public:
    static constexpr size_t kChunk = size_t(1) << kChunkBits;

    T& operator[](size_t i) { return chunks_[i >> kChunkBits][i & (kChunk - 1)]; }
    const T& operator[](size_t i) const { return chunks_[i >> kChunkBits][i & (kChunk - 1)]; }
    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }

    // Appends a default-constructed element (elements of a new chunk are constructed with it).
    T& emplace_back() {
        if (size_ == chunks_.size() * kChunk) chunks_.push_back(std::make_unique<T[]>(kChunk));
        return (*this)[size_++];
    }
    void clear() {
        chunks_.clear();
        size_ = 0;
    }

private:
    std::vector<std::unique_ptr<T[]>> chunks_;
    size_t size_ = 0;
};

}  // namespace sara
