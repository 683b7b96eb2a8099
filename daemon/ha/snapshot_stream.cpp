// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/ha/snapshot_stream.hpp"

namespace sara {

SnapshotStream::SnapshotStream(size_t max_payload) : max_payload_(max_payload), writer_(text_, false) {}

size_t SnapshotStream::copy(SessionTable& table, size_t budget) {
    const size_t before = writer_.copied();
    if (!walked_) walked_ = writer_.step(table, budget);
    return writer_.copied() - before;
}

std::vector<std::string> SnapshotStream::format() {
    std::vector<std::string> out;
    if (done_) return out;
    done_ = walked_;
    writer_.flush();
    const std::string text = std::move(text_).str();  // moved out, not copied (C++20)
    text_.str(std::string());
    for (size_t at = 0; at < text.size();) {
        const size_t end = text.find('\n', at);
        const size_t line_end = end == std::string::npos ? text.size() : end + 1;
        const std::string_view line(text.data() + at, line_end - at);
        at = line_end;
        if (partial_.size() + line.size() > max_payload_ && !partial_.empty()) out.push_back(std::exchange(partial_, {}));
        partial_ += line;
    }
    // The last payload after the walk is the snapshot's final chunk: there is always one.
    if (done_ && (!partial_.empty() || out.empty())) out.push_back(std::exchange(partial_, {}));
    return out;
}

}  // namespace sara
