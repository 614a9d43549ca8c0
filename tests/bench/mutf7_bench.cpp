// Modified UTF-7 <-> UTF-8: every mailbox name crossing the IMAP edge.
#include <benchmark/benchmark.h>

#include "mutf7.h"

namespace {

const std::string kAsciiUtf8 = "Shared/Projects/2026/Q1 reports";
const std::string kMixedUtf8 =
    "~peter/mail/\xE5\x8F\xB0\xE5\x8C\x97/Entw\xC3\xBCrfe & Notizen/\xF0\x9F\x98\x80";

void BM_Mutf7Encode(benchmark::State& state, const std::string& utf8) {
    for (auto _ : state) benchmark::DoNotOptimize(dref::utf8ToMutf7(utf8));
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * utf8.size()));
}
BENCHMARK_CAPTURE(BM_Mutf7Encode, ascii, kAsciiUtf8);
BENCHMARK_CAPTURE(BM_Mutf7Encode, mixed, kMixedUtf8);

void BM_Mutf7Decode(benchmark::State& state, const std::string& utf8) {
    const std::string wire = *dref::utf8ToMutf7(utf8);
    for (auto _ : state) benchmark::DoNotOptimize(dref::mutf7ToUtf8(wire));
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * wire.size()));
}
BENCHMARK_CAPTURE(BM_Mutf7Decode, ascii, kAsciiUtf8);
BENCHMARK_CAPTURE(BM_Mutf7Decode, mixed, kMixedUtf8);

}  // namespace
