// dref-imap-load: IMAP login load generator for the dovecot-referral
// benchmarks (tests/perf, docs/benchmarks.md).  One thread and one epoll set
// keep a fixed number of sessions in flight; each connects, reads the
// greeting, logs in (LOGIN or AUTHENTICATE PLAIN with SASL-IR), classifies
// the tagged reply, sends LOGOUT after an OK and closes.  It prints the rate,
// latency percentiles (connect to tagged reply), the count of every reply
// class and its own CPU time, as text and as one JSON line.
#include <arpa/inet.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "load_engine.h"

using namespace dref::perf;

namespace {

const char* kUsage =
    "usage: dref-imap-load --host ADDR --port PORT (--users FILE | --user U --pass P)\n"
    "         [--concurrency C] [--count N] [--duration SECONDS] [--mech login|plain]\n"
    "         [--local-marker WORD] [--timeout SECONDS] [--no-logout] [--events FILE]\n"
    "         [--expect CLASS[,CLASS...]] [--source ADDR]\n"
    "users FILE: one account a line: USER PASSWORD [EXPECT[,EXPECT...]|-] [SOURCE-ADDR]\n"
    "classes: referral ok-referral ok-local ok-proxied ok authfailed unavailable contactadmin\n"
    "         no-other bad bye-greeting bye closed timeout connect-error other\n";

bool parseAddr(const std::string& s, sockaddr_in* out) {
    *out = sockaddr_in();
    out->sin_family = AF_INET;
    return inet_pton(AF_INET, s.c_str(), &out->sin_addr) == 1;
}

bool parseExpect(const std::string& spec, uint32_t* mask) {
    *mask = 0;
    if (spec.empty() || spec == "-" || spec == "any") return true;
    std::stringstream ss(spec);
    std::string name;
    while (std::getline(ss, name, ',')) {
        ReplyClass c;
        if (!parseReplyClass(name, &c)) return false;
        *mask |= 1u << static_cast<int>(c);
    }
    return true;
}

bool readUsers(const std::string& path, std::vector<Account>* out, std::string* error) {
    std::ifstream f(path);
    if (!f) {
        *error = "cannot read " + path;
        return false;
    }
    std::string line;
    int n = 0;
    while (std::getline(f, line)) {
        ++n;
        if (line.empty() || line[0] == '#') continue;
        std::stringstream ss(line);
        Account a;
        std::string expect, source;
        ss >> a.user >> a.pass >> expect >> source;
        if (a.user.empty() || a.pass.empty() || !parseExpect(expect, &a.expect_mask)) {
            *error = path + ":" + std::to_string(n) + ": bad line";
            return false;
        }
        if (!source.empty()) {
            if (!parseAddr(source, &a.source)) {
                *error = path + ":" + std::to_string(n) + ": bad source address";
                return false;
            }
            a.has_source = true;
        }
        out->push_back(a);
    }
    return true;
}

std::string jsonString(const std::string& s) {
    std::string out = "\"";
    for (unsigned char ch : s) {
        if (ch == '"' || ch == '\\') {
            out += '\\';
            out += static_cast<char>(ch);
        } else if (ch < 0x20 || ch >= 0x7f) {
            char b[8];
            snprintf(b, sizeof b, "\\u%04x", ch);
            out += b;
        } else {
            out += static_cast<char>(ch);
        }
    }
    return out + "\"";
}

double percentileMs(std::vector<uint32_t>& sorted_us, double p) {
    if (sorted_us.empty()) return 0;
    size_t idx = static_cast<size_t>(p * static_cast<double>(sorted_us.size() - 1) + 0.5);
    return sorted_us[std::min(idx, sorted_us.size() - 1)] / 1000.0;
}

}  // namespace

int main(int argc, char** argv) {
    LoadOptions opt;
    std::string host, users_path, user, pass, events_path, expect_all, source_all;
    int port = 0;
    double timeout_s = 10;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                fprintf(stderr, "%s needs a value\n%s", a.c_str(), kUsage);
                exit(2);
            }
            return argv[++i];
        };
        if (a == "--host") host = next();
        else if (a == "--port") port = atoi(next().c_str());
        else if (a == "--users") users_path = next();
        else if (a == "--user") user = next();
        else if (a == "--pass") pass = next();
        else if (a == "--concurrency") opt.concurrency = atoi(next().c_str());
        else if (a == "--count") opt.count = strtoull(next().c_str(), nullptr, 10);
        else if (a == "--duration") opt.duration_s = atof(next().c_str());
        else if (a == "--mech") {
            std::string m = next();
            if (m == "plain") opt.mech = Mechanism::Plain;
            else if (m == "login") opt.mech = Mechanism::Login;
            else { fprintf(stderr, "--mech login|plain\n"); return 2; }
        }
        else if (a == "--local-marker") opt.local_marker = next();
        else if (a == "--timeout") timeout_s = atof(next().c_str());
        else if (a == "--no-logout") opt.logout = false;
        else if (a == "--events") events_path = next();
        else if (a == "--expect") expect_all = next();
        else if (a == "--source") source_all = next();
        else if (a == "--help" || a == "-h") { fputs(kUsage, stdout); return 0; }
        else { fprintf(stderr, "unknown option %s\n%s", a.c_str(), kUsage); return 2; }
    }
    if (host.empty() || port <= 0 || port > 65535 || (users_path.empty() && user.empty()) ||
        (opt.count == 0 && opt.duration_s <= 0)) {
        fputs(kUsage, stderr);
        return 2;
    }
    if (!parseAddr(host, &opt.target)) {
        fprintf(stderr, "bad --host %s (IPv4 address)\n", host.c_str());
        return 2;
    }
    opt.target.sin_port = htons(static_cast<uint16_t>(port));
    opt.timeout_ms = static_cast<int>(timeout_s * 1000);
    std::string error;
    if (!users_path.empty()) {
        if (!readUsers(users_path, &opt.accounts, &error)) {
            fprintf(stderr, "%s\n", error.c_str());
            return 2;
        }
    } else {
        Account a;
        a.user = user;
        a.pass = pass;
        opt.accounts.push_back(a);
    }
    uint32_t mask = 0;
    if (!parseExpect(expect_all, &mask)) {
        fprintf(stderr, "bad --expect %s\n", expect_all.c_str());
        return 2;
    }
    sockaddr_in src{};
    if (!source_all.empty() && !parseAddr(source_all, &src)) {
        fprintf(stderr, "bad --source %s\n", source_all.c_str());
        return 2;
    }
    for (auto& acc : opt.accounts) {
        if (mask && !acc.expect_mask) acc.expect_mask = mask;
        if (!source_all.empty() && !acc.has_source) {
            acc.source = src;
            acc.has_source = true;
        }
    }

    LoadReport report;
    if (!runLoad(opt, &report, &error)) {
        fprintf(stderr, "dref-imap-load: %s\n", error.c_str());
        return 1;
    }
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    double cpu_user = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
    double cpu_sys = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;

    uint64_t counts[kReplyClassCount] = {};
    uint64_t unexpected = 0;
    std::vector<uint32_t> lat;
    lat.reserve(report.results.size());
    for (const auto& r : report.results) {
        counts[static_cast<int>(r.cls)]++;
        unexpected += r.unexpected;
        lat.push_back(r.latency_us);
    }
    std::sort(lat.begin(), lat.end());
    size_t n = report.results.size();
    double rate = report.elapsed_s > 0 ? n / report.elapsed_s : 0;
    double p50 = percentileMs(lat, 0.50), p90 = percentileMs(lat, 0.90),
           p99 = percentileMs(lat, 0.99), pmax = lat.empty() ? 0 : lat.back() / 1000.0;
    double cpu_pct = report.elapsed_s > 0 ? 100.0 * (cpu_user + cpu_sys) / report.elapsed_s : 0;

    printf("sessions %zu in %.3f s: %.1f/s at concurrency %d; latency p50 %.2f ms, p90 %.2f ms, "
           "p99 %.2f ms, max %.2f ms; load generator CPU %.2f s (%.1f%% of one core)\n",
           n, report.elapsed_s, rate, opt.concurrency, p50, p90, p99, pmax, cpu_user + cpu_sys,
           cpu_pct);
    for (int i = 0; i < kReplyClassCount; ++i)
        if (counts[i])
            printf("  %-14s %8llu   e.g. %s\n", replyClassName(static_cast<ReplyClass>(i)),
                   static_cast<unsigned long long>(counts[i]), report.examples[i].c_str());
    printf("  unexpected     %8llu\n", static_cast<unsigned long long>(unexpected));
    for (const auto& e : report.unexpected_examples) printf("    %s\n", e.c_str());

    std::string json = "{\"sessions\":" + std::to_string(n);
    char num[512];
    snprintf(num, sizeof num,
             ",\"elapsed_s\":%.4f,\"rate\":%.2f,\"concurrency\":%d,\"p50_ms\":%.3f,\"p90_ms\":%.3f,"
             "\"p99_ms\":%.3f,\"max_ms\":%.3f,\"cpu_user_s\":%.3f,\"cpu_sys_s\":%.3f,"
             "\"cpu_pct\":%.2f,\"unexpected\":%llu",
             report.elapsed_s, rate, opt.concurrency, p50, p90, p99, pmax, cpu_user, cpu_sys,
             cpu_pct, static_cast<unsigned long long>(unexpected));
    json += num;
    json += ",\"classes\":{";
    bool first = true;
    for (int i = 0; i < kReplyClassCount; ++i) {
        if (!counts[i]) continue;
        json += (first ? "" : ",") + jsonString(replyClassName(static_cast<ReplyClass>(i))) + ":" +
                std::to_string(counts[i]);
        first = false;
    }
    json += "},\"examples\":{";
    first = true;
    for (int i = 0; i < kReplyClassCount; ++i) {
        if (!counts[i]) continue;
        json += (first ? "" : ",") + jsonString(replyClassName(static_cast<ReplyClass>(i))) + ":" +
                jsonString(report.examples[i]);
        first = false;
    }
    json += "}}";
    printf("JSON %s\n", json.c_str());

    if (!events_path.empty()) {
        FILE* f = fopen(events_path.c_str(), "w");
        if (!f) {
            fprintf(stderr, "cannot write %s\n", events_path.c_str());
            return 1;
        }
        fprintf(f, "end_s class latency_ms user unexpected\n");
        for (const auto& r : report.results)
            fprintf(f, "%.4f %s %.3f %s %d\n", r.end_s, replyClassName(r.cls), r.latency_us / 1000.0,
                    opt.accounts[r.account].user.c_str(), r.unexpected ? 1 : 0);
        fclose(f);
    }
    return 0;
}
