// RFC 5092 referral URLs: built on every referral, parsed for every
// directory value (imapHomeServerURL, imapMailboxURL).
#include <benchmark/benchmark.h>

#include "imap_url.h"

namespace {

using dref::ImapUrlParts;

ImapUrlParts serverUrl() {
    ImapUrlParts p;
    p.user = "fred@example.test";
    p.host = "home1.example.test";
    return p;
}

ImapUrlParts mailboxUrl() {
    ImapUrlParts p = serverUrl();
    p.port = 10143;
    p.mailbox = "Shared/Projekte/Entw\xC3\xBC" "rfe 2026/\xE6\x97\xA5\xE6\x9C\xAC";
    p.uidValidity = 385759045;
    return p;
}

void BM_BuildServerUrl(benchmark::State& state) {
    const ImapUrlParts parts = serverUrl();
    std::string error;
    for (auto _ : state) benchmark::DoNotOptimize(dref::buildImapUrl(parts, &error));
}
BENCHMARK(BM_BuildServerUrl);

void BM_BuildMailboxUrl(benchmark::State& state) {
    const ImapUrlParts parts = mailboxUrl();
    std::string error;
    for (auto _ : state) benchmark::DoNotOptimize(dref::buildImapUrl(parts, &error));
}
BENCHMARK(BM_BuildMailboxUrl);

void BM_ParseServerUrl(benchmark::State& state) {
    std::string error;
    const std::string url = *dref::buildImapUrl(serverUrl(), &error);
    for (auto _ : state) benchmark::DoNotOptimize(dref::parseImapUrl(url, &error));
}
BENCHMARK(BM_ParseServerUrl);

void BM_ParseMailboxUrl(benchmark::State& state) {
    std::string error;
    const std::string url = *dref::buildImapUrl(mailboxUrl(), &error);
    for (auto _ : state) benchmark::DoNotOptimize(dref::parseImapUrl(url, &error));
}
BENCHMARK(BM_ParseMailboxUrl);

}  // namespace
