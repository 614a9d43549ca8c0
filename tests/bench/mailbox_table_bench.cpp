// The remote mailbox table (consulted on every mailbox command) and RLIST
// pattern matching, at 1k and 100k remote entries.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "list_pattern.h"
#include "remote_mailbox_table.h"

namespace {

using namespace dref;

// Entries "Shared/Team<i/100>/Box<i>" (100 per team) on two home servers.
std::vector<RemoteMailbox> makeMailboxes(int n) {
    std::vector<RemoteMailbox> out;
    out.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
        RemoteMailbox m;
        m.name = "Shared/Team" + std::to_string(i / 100) + "/Box" + std::to_string(i);
        ImapUrlParts loc;
        loc.host = (i % 2) ? "home1.example.test" : "home2.example.test";
        m.locations.push_back(loc);
        m.dn = "cn=Box" + std::to_string(i) + ",ou=shared,dc=example,dc=test";
        out.push_back(std::move(m));
    }
    return out;
}

const RemoteMailboxTable& table(int n) {
    // Built once per size; benchmarks only read it.
    static std::vector<std::pair<int, RemoteMailboxTable>> tables;
    for (auto& [size, t] : tables)
        if (size == n) return t;
    tables.emplace_back(n, RemoteMailboxTable::build(makeMailboxes(n), '/', {}, {}, nullptr));
    return tables.back().second;
}

void BM_TableBuild(benchmark::State& state) {
    const auto mailboxes = makeMailboxes(static_cast<int>(state.range(0)));
    size_t bytes = 0;
    for (auto _ : state) {
        auto t = RemoteMailboxTable::build(mailboxes, '/', {}, {}, nullptr);
        bytes = t.memoryBytes();
        benchmark::DoNotOptimize(t);
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
    // What one loaded table costs the imap process, per entry.
    state.counters["bytes_per_entry"] = static_cast<double>(bytes) / static_cast<double>(state.range(0));
}
BENCHMARK(BM_TableBuild)->Arg(1000)->Arg(100000)->Unit(benchmark::kMillisecond);

void BM_TableFindExact(benchmark::State& state) {
    const int n = static_cast<int>(state.range(0));
    const auto& t = table(n);
    const std::string name = "Shared/Team" + std::to_string(n / 200) + "/Box" + std::to_string(n / 2);
    for (auto _ : state) benchmark::DoNotOptimize(t.find(name));
}
BENCHMARK(BM_TableFindExact)->Arg(1000)->Arg(100000);

void BM_TableFindInferior(benchmark::State& state) {
    const int n = static_cast<int>(state.range(0));
    const auto& t = table(n);
    const std::string name =
        "Shared/Team" + std::to_string(n / 200) + "/Box" + std::to_string(n / 2) + "/2026/Q1";
    for (auto _ : state) benchmark::DoNotOptimize(t.find(name));
}
BENCHMARK(BM_TableFindInferior)->Arg(1000)->Arg(100000);

void BM_TableFindLocalMiss(benchmark::State& state) {
    const auto& t = table(static_cast<int>(state.range(0)));
    const std::string name = "INBOX/Archive/2025/December";
    for (auto _ : state) benchmark::DoNotOptimize(t.find(name));
}
BENCHMARK(BM_TableFindLocalMiss)->Arg(1000)->Arg(100000);

void BM_PatternMatch(benchmark::State& state, const char* pattern) {
    const ListPattern p("", pattern, '/');
    const std::string name = "Shared/Team42/Box4242/2026/Q1";
    for (auto _ : state) benchmark::DoNotOptimize(p.matches(name));
}
BENCHMARK_CAPTURE(BM_PatternMatch, star, "*");
BENCHMARK_CAPTURE(BM_PatternMatch, percent_levels, "Shared/%/%/%/%");
BENCHMARK_CAPTURE(BM_PatternMatch, inner_stars, "*Team*Box*Q*");
BENCHMARK_CAPTURE(BM_PatternMatch, miss, "Shared/Team42/Box99*");

// RLIST "" "<pattern>" over the whole table: the work an RLIST does besides
// writing the replies.
void BM_RlistWalk(benchmark::State& state, const char* pattern) {
    const auto& t = table(static_cast<int>(state.range(0)));
    const ListPattern p("", pattern, '/');
    size_t hits = 0;
    for (auto _ : state) {
        hits = 0;
        t.forEachMatch(p, [&hits](const RemoteMailboxEntry&) { ++hits; });
        benchmark::DoNotOptimize(hits);
    }
    state.counters["matches"] = static_cast<double>(hits);
}
BENCHMARK_CAPTURE(BM_RlistWalk, star, "*")->Arg(1000)->Arg(100000)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_RlistWalk, prefix, "Shared/Team7/%")
    ->Arg(1000)->Arg(100000)->Unit(benchmark::kMicrosecond);

}  // namespace
