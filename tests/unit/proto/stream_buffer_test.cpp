// SPDX-License-Identifier: GPL-2.0-or-later
// TCP reassembly for the signalling parsers: each case is a sequence of SYNs, segments and
// consumed messages, with what feed() answers and what stays buffered after every step.
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/proto/stream_buffer.hpp"

namespace sara {
namespace {

using Feed = StreamBuffer::Feed;

std::string_view feed_name(Feed f) {
    switch (f) {
        case Feed::appended: return "appended";
        case Feed::retransmission: return "retransmission";
        case Feed::gap_resync: return "gap_resync";
        case Feed::overflow: return "overflow";
    }
    return "?";
}

struct Step {
    std::optional<uint32_t> syn{};  // when set, the step is start(syn) and nothing is fed
    uint32_t seq = 0;
    std::string_view payload{};
    Feed result = Feed::appended;
    std::string_view pending{};  // buffered after the step
    size_t consume = 0;          // bytes the parser takes after the step
};

struct StreamCase {
    const char* description;
    size_t max_bytes = 64;
    std::vector<Step> steps;
};

const std::vector<StreamCase>& stream_cases() {
    static const std::vector<StreamCase> cases = {
        // --- in order -----------------------------------------------------------------------
        {.description = "in order after a SYN",
         .steps = {{.syn = 1000},
                   {.seq = 1001, .payload = "INVITE ", .pending = "INVITE "},
                   {.seq = 1008, .payload = "sip:a SIP/2.0\r\n", .pending = "INVITE sip:a SIP/2.0\r\n"}}},
        {.description = "picked up mid-stream: the first segment sets the sequence",
         .steps = {{.seq = 5000, .payload = "abc", .pending = "abc"},
                   {.seq = 5003, .payload = "def", .pending = "abcdef"}}},
        {.description = "consumed messages leave the rest buffered",
         .steps = {{.syn = 0},
                   {.seq = 1, .payload = "msg1msg2", .pending = "msg1msg2", .consume = 4},
                   {.seq = 9, .payload = "msg3", .pending = "msg2msg3", .consume = 8},
                   {.seq = 13, .payload = "x", .pending = "x"}}},
        {.description = "an empty segment in order changes nothing",
         .steps = {{.syn = 0}, {.seq = 1, .payload = "ab", .pending = "ab"}, {.seq = 3, .pending = "ab"},
                   {.seq = 3, .payload = "c", .pending = "abc"}}},

        // --- retransmissions ----------------------------------------------------------------
        {.description = "exact retransmission is skipped",
         .steps = {{.syn = 0},
                   {.seq = 1, .payload = "abc", .pending = "abc"},
                   {.seq = 1, .payload = "abc", .result = Feed::retransmission, .pending = "abc"}}},
        {.description = "retransmission of bytes already consumed",
         .steps = {{.syn = 0},
                   {.seq = 1, .payload = "abc", .pending = "abc", .consume = 3},
                   {.seq = 1, .payload = "abc", .result = Feed::retransmission},
                   {.seq = 4, .payload = "d", .pending = "d"}}},
        {.description = "overlapping segment: only the new bytes are kept",
         .steps = {{.syn = 0},
                   {.seq = 1, .payload = "abcd", .pending = "abcd"},
                   {.seq = 3, .payload = "cdefg", .result = Feed::retransmission, .pending = "abcdefg"},
                   {.seq = 8, .payload = "h", .pending = "abcdefgh"}}},
        {.description = "an old segment inside what was already seen",
         .steps = {{.syn = 0},
                   {.seq = 1, .payload = "abcdefgh", .pending = "abcdefgh"},
                   {.seq = 3, .payload = "cd", .result = Feed::retransmission, .pending = "abcdefgh"}}},

        // --- gaps ---------------------------------------------------------------------------
        {.description = "a gap drops the buffer and resynchronises",
         .steps = {{.syn = 0},
                   {.seq = 1, .payload = "abc", .pending = "abc"},
                   {.seq = 10, .payload = "xyz", .result = Feed::gap_resync, .pending = "xyz"},
                   {.seq = 13, .payload = "!", .pending = "xyz!"},
                   {.seq = 4, .payload = "defghi", .result = Feed::retransmission, .pending = "xyz!"}}},
        {.description = "a gap of one byte",
         .steps = {{.syn = 0},
                   {.seq = 1, .payload = "a", .pending = "a"},
                   {.seq = 3, .payload = "c", .result = Feed::gap_resync, .pending = "c"}}},

        // --- the bound ----------------------------------------------------------------------
        {.description = "exactly max_bytes fits; one more byte overflows and drops the buffer",
         .max_bytes = 8,
         .steps = {{.syn = 0},
                   {.seq = 1, .payload = "12345678", .pending = "12345678"},
                   {.seq = 9, .payload = "9", .result = Feed::overflow},
                   {.seq = 10, .payload = "ab", .pending = "ab"}}},
        {.description = "one segment larger than max_bytes",
         .max_bytes = 4,
         .steps = {{.syn = 0},
                   {.seq = 1, .payload = "12345", .result = Feed::overflow},
                   {.seq = 6, .payload = "x", .pending = "x"},
                   {.seq = 1, .payload = "12345", .result = Feed::retransmission, .pending = "x"}}},
        {.description = "consumed bytes free room under the bound",
         .max_bytes = 8,
         .steps = {{.syn = 0},
                   {.seq = 1, .payload = "12345678", .pending = "12345678", .consume = 8},
                   {.seq = 9, .payload = "abcdefgh", .pending = "abcdefgh", .consume = 2},
                   {.seq = 17, .payload = "ij", .pending = "cdefghij"}}},
        {.description = "the new part of an overlapping segment counts against the bound",
         .max_bytes = 6,
         .steps = {{.syn = 0},
                   {.seq = 1, .payload = "abcd", .pending = "abcd"},
                   {.seq = 3, .payload = "cdef", .result = Feed::retransmission, .pending = "abcdef"},
                   {.seq = 5, .payload = "efg", .result = Feed::overflow}}},

        // --- sequence numbers around 2^32 ------------------------------------------------------
        {.description = "in order across the wrap at 2^32",
         .steps = {{.syn = 0xfffffffd},
                   {.seq = 0xfffffffe, .payload = "ab", .pending = "ab"},
                   {.seq = 0, .payload = "cd", .pending = "abcd"},
                   {.seq = 2, .payload = "e", .pending = "abcde"}}},
        {.description = "one segment spanning the wrap",
         .steps = {{.syn = 0xfffffffb},
                   {.seq = 0xfffffffc, .payload = "abcdefgh", .pending = "abcdefgh"},
                   {.seq = 4, .payload = "i", .pending = "abcdefghi"}}},
        {.description = "a SYN at 2^32-1: the first byte is at 0",
         .steps = {{.syn = 0xffffffff}, {.seq = 0, .payload = "a", .pending = "a"}}},
        {.description = "overlap across the wrap",
         .steps = {{.syn = 0xfffffffd},
                   {.seq = 0xfffffffe, .payload = "ab", .pending = "ab"},
                   {.seq = 0, .payload = "cd", .pending = "abcd"},
                   {.seq = 0xffffffff, .payload = "bcdef", .result = Feed::retransmission, .pending = "abcdef"}}},
        {.description = "retransmission from before the wrap",
         .steps = {{.syn = 0xfffffff0},
                   {.seq = 0xfffffff1, .payload = "0123456789abcdef", .pending = "0123456789abcdef"},
                   {.seq = 0xfffffff1, .payload = "0123", .result = Feed::retransmission,
                    .pending = "0123456789abcdef"}}},
        {.description = "a gap across the wrap",
         .steps = {{.syn = 0xfffffff0},
                   {.seq = 0xfffffff1, .payload = "a", .pending = "a"},
                   {.seq = 5, .payload = "z", .result = Feed::gap_resync, .pending = "z"}}},
        {.description = "2^31-1 ahead is a gap",
         .steps = {{.syn = 0},
                   {.seq = 1, .payload = "a", .pending = "a"},
                   {.seq = 0x80000001, .payload = "z", .result = Feed::gap_resync, .pending = "z"}}},
        {.description = "2^31 away counts as old",
         .steps = {{.syn = 0},
                   {.seq = 1, .payload = "a", .pending = "a"},
                   {.seq = 0x80000002, .payload = "z", .result = Feed::retransmission, .pending = "a"}}},

        // --- restarts -----------------------------------------------------------------------
        {.description = "a new SYN on a reused 5-tuple restarts the stream",
         .steps = {{.syn = 100},
                   {.seq = 101, .payload = "abc", .pending = "abc"},
                   {.syn = 5000},
                   {.seq = 5001, .payload = "x", .pending = "x"}}},
        {.description = "a retransmitted SYN after data restarts at the same place",
         .steps = {{.syn = 100},
                   {.seq = 101, .payload = "abc", .pending = "abc"},
                   {.syn = 100},
                   {.seq = 101, .payload = "abc", .pending = "abc"}}},
    };
    return cases;
}

std::span<const uint8_t> as_bytes(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

BOOST_AUTO_TEST_SUITE(stream_buffer)

BOOST_AUTO_TEST_CASE(reassembles_stream_table) {
    for (const StreamCase& c : stream_cases()) {
        BOOST_TEST_CONTEXT(c.description) {
            StreamBuffer buffer(c.max_bytes);
            for (size_t i = 0; i < c.steps.size(); ++i) {
                const Step& step = c.steps[i];
                BOOST_TEST_CONTEXT("step " << i) {
                    if (step.syn) {
                        buffer.start(*step.syn);
                        BOOST_TEST(buffer.pending().empty());
                        continue;
                    }
                    BOOST_TEST(feed_name(buffer.feed(step.seq, as_bytes(step.payload))) == feed_name(step.result));
                    BOOST_TEST(buffer.pending() == step.pending);
                    BOOST_TEST(buffer.pending().size() <= c.max_bytes);
                    buffer.consume(step.consume);
                }
            }
        }
    }
}

// A message delivered one byte per segment, with every byte also sent twice, ends up whole.
BOOST_AUTO_TEST_CASE(byte_by_byte_with_duplicates) {
    const std::string_view message = "BYE sip:a@h SIP/2.0\r\nCall-ID: x\r\n\r\n";
    StreamBuffer buffer(1024);
    buffer.start(0xfffffff0);
    for (size_t i = 0; i < message.size(); ++i) {
        const uint32_t seq = 0xfffffff1 + uint32_t(i);
        BOOST_TEST_CONTEXT("byte " << i) {
            BOOST_TEST(feed_name(buffer.feed(seq, as_bytes(message.substr(i, 1)))) == "appended");
            BOOST_TEST(feed_name(buffer.feed(seq, as_bytes(message.substr(i, 1)))) == "retransmission");
        }
    }
    BOOST_TEST(buffer.pending() == message);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace sara
