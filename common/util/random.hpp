// SPDX-License-Identifier: GPL-2.0-or-later
// Random source passed in (no hidden globals): tests seed it, the daemon seeds it from the OS.
#pragma once

#include <cstdint>
#include <random>

namespace sara {

class Random {
public:
    virtual ~Random() = default;
    // Uniform in [0, 1).
    virtual double uniform() = 0;
    // Uniform integer in [0, bound); bound > 0.
    virtual uint64_t below(uint64_t bound) = 0;
};

class SeededRandom final : public Random {
public:
    explicit SeededRandom(uint64_t seed) : engine_(seed) {}
    double uniform() override { return std::uniform_real_distribution<double>(0.0, 1.0)(engine_); }
    uint64_t below(uint64_t bound) override {
        return std::uniform_int_distribution<uint64_t>(0, bound - 1)(engine_);
    }

private:
    std::mt19937_64 engine_;
};

// Seeded from std::random_device; for the daemon's composition root.
inline SeededRandom make_os_seeded_random() {
    std::random_device rd;
    return SeededRandom((uint64_t(rd()) << 32) ^ rd());
}

}  // namespace sara
