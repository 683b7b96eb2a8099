// SPDX-License-Identifier: GPL-2.0-or-later
// A Logger whose lines a test reads back (open_memstream), for code whose contract includes
// what it logs.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/util/log.hpp"

namespace sara::test {

struct CapturedLog {
    char* text = nullptr;
    size_t size = 0;
    std::FILE* stream = ::open_memstream(&text, &size);
    Logger log{LogLevel::info, stream};

    CapturedLog() = default;
    CapturedLog(const CapturedLog&) = delete;
    CapturedLog& operator=(const CapturedLog&) = delete;
    ~CapturedLog() {
        std::fclose(stream);
        std::free(text);
    }
    // Everything logged so far.
    std::string str() {
        std::fflush(stream);
        return std::string(text, size);
    }
};

}  // namespace sara::test
