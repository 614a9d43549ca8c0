// The referral-directory service's answer path for one user with 1,000
// remote mailboxes (issue 13 item 4, "directory asked"), step by step: the
// directory entries mapped and validated (service), the answer encoded
// (service), decoded and checked again (imap process), the table built
// (imap process).  Entries as tests/perf/perf_data.py writes them.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "entry_mapping.h"
#include "remote_mailbox_cache_decoder.h"
#include "remote_mailbox_cache_encoder.h"
#include "remote_mailbox_table.h"

namespace {

using namespace dref;

std::vector<ldap::Entry> makeEntries(int n) {
    std::vector<ldap::Entry> out;
    out.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
        char name[32];
        std::snprintf(name, sizeof name, "Remote/g%03d/m%06d", i / 1000, i);
        ldap::Entry e;
        e.dn = std::string("imapMailboxName=") + name + ",uid=mb1k,ou=people,dc=example,dc=test";
        e.attributes["imapmailboxname"] = {name};
        e.attributes["imapmailboxurl"] = {std::string("imap://127.0.0.182:27335/") + name};
        out.push_back(std::move(e));
    }
    return out;
}

DirectorySettings settings() {
    DirectorySettings s;
    s.uris = {"ldap://127.0.0.1/"};
    s.userBase = "ou=people,dc=example,dc=test";
    return s;
}

std::vector<RemoteMailbox> mapped(int n) {
    std::vector<RemoteMailbox> out;
    std::vector<std::string> warnings;
    mapMailboxEntries(makeEntries(n), true, settings(), &out, &warnings);
    return out;
}

MailboxCacheRecord record(int n) {
    MailboxCacheRecord r;
    r.user = "mb1k";
    r.identity = mailboxCacheIdentity(settings());
    r.mailboxes = mapped(n);
    return r;
}

void BM_MapEntries(benchmark::State& state) {
    const auto entries = makeEntries(static_cast<int>(state.range(0)));
    const DirectorySettings s = settings();
    // As the service maps them: entry by entry on the LDAP worker thread,
    // each entry handed over (the copy stands for what the worker parsed).
    for (auto _ : state) {
        MailboxEntryMapper mapper(true, s);
        for (const auto& e : entries) mapper.take(ldap::Entry(e));
        benchmark::DoNotOptimize(mapper.mailboxes());
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_MapEntries)->Arg(1000)->Unit(benchmark::kMicrosecond);

// What the service's LDAP worker does per entry: the mapping and the
// entry's lines of the answer (MailboxEntryMapper with encoding, as
// DirectoryOptions::encodeMailboxes sets it up).
void BM_MapAndEncodeEntries(benchmark::State& state) {
    const auto entries = makeEntries(static_cast<int>(state.range(0)));
    const DirectorySettings s = settings();
    for (auto _ : state) {
        MailboxEntryMapper mapper(true, s, true);
        for (const auto& e : entries) mapper.take(ldap::Entry(e));
        benchmark::DoNotOptimize(mapper.lines());
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_MapAndEncodeEntries)->Arg(1000)->Unit(benchmark::kMicrosecond);

void BM_EncodeAnswer(benchmark::State& state) {
    const MailboxCacheRecord r = record(static_cast<int>(state.range(0)));
    std::string error;
    for (auto _ : state) benchmark::DoNotOptimize(encodeMailboxCache(r, MailboxCacheLimits(), &error));
    state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_EncodeAnswer)->Arg(1000)->Unit(benchmark::kMicrosecond);

void BM_DecodeAnswer(benchmark::State& state) {
    const MailboxCacheRecord r = record(static_cast<int>(state.range(0)));
    std::string error;
    const std::string bytes = *encodeMailboxCache(r, MailboxCacheLimits(), &error);
    for (auto _ : state)
        benchmark::DoNotOptimize(
            decodeMailboxCache(bytes, r.user, r.identity, MailboxCacheLimits(), &error));
    state.SetItemsProcessed(state.iterations() * state.range(0));
    state.counters["bytes"] = static_cast<double>(bytes.size());
}
BENCHMARK(BM_DecodeAnswer)->Arg(1000)->Unit(benchmark::kMicrosecond);

// The imap process's side of the bench's answers: local names and
// allowed_hosts as the bench fronts set them.
const std::vector<std::string> kLocalNames = {"127.0.0.189"};
const std::vector<std::string> kAllowedHosts = {"127.0.0.181", "127.0.0.182"};

void BM_BuildTable(benchmark::State& state) {
    const auto mailboxes = mapped(static_cast<int>(state.range(0)));
    for (auto _ : state) {
        std::vector<std::string> warnings;
        benchmark::DoNotOptimize(
            RemoteMailboxTable::build(mailboxes, '/', kLocalNames, kAllowedHosts, &warnings));
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_BuildTable)->Arg(1000)->Unit(benchmark::kMicrosecond);

// The imap process's whole way for a service answer, the two ways it can
// go (`intoTable`): decoded into a list of RemoteMailbox, the table built
// from it, the list freed (before issue 13's session 14, and still for the
// mailbox cache file); decoded straight into the table
// (RemoteMailboxTable::Builder).
void decodeAndBuild(benchmark::State& state, bool intoTable) {
    const MailboxCacheRecord r = record(static_cast<int>(state.range(0)));
    std::string error;
    const std::string bytes = *encodeMailboxCache(r, MailboxCacheLimits(), &error);
    for (auto _ : state) {
        std::vector<std::string> warnings;
        if (intoTable) {
            RemoteMailboxTable::Builder builder('/', kLocalNames, kAllowedHosts, &warnings);
            auto rec = decodeMailboxCacheInto(bytes, r.user, r.identity, MailboxCacheLimits(),
                                              &builder, &error);
            benchmark::DoNotOptimize(rec);
            benchmark::DoNotOptimize(builder.finish());
        } else {
            auto rec = decodeMailboxCache(bytes, r.user, r.identity, MailboxCacheLimits(), &error);
            auto table =
                RemoteMailboxTable::build(rec->mailboxes, '/', kLocalNames, kAllowedHosts, &warnings);
            rec.reset();
            benchmark::DoNotOptimize(table);
        }
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
}
void BM_DecodeThenBuildTable(benchmark::State& state) { decodeAndBuild(state, false); }
BENCHMARK(BM_DecodeThenBuildTable)->Arg(1000)->Unit(benchmark::kMicrosecond);
void BM_DecodeIntoTable(benchmark::State& state) { decodeAndBuild(state, true); }
BENCHMARK(BM_DecodeIntoTable)->Arg(1000)->Unit(benchmark::kMicrosecond);

}  // namespace
