#include "slapd_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#ifndef DREF_SLAPD_SERVER_PY
#error "DREF_SLAPD_SERVER_PY must name tests/support/slapd_server.py"
#endif

namespace dref::test {

SlapdProcess::SlapdProcess(std::string dir, std::string addr)
    : dir_(std::move(dir)), addr_(std::move(addr)) {
    if (std::filesystem::exists(dir_ + "/slapd.json")) helper({"stop", "--dir", dir_});
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    std::filesystem::create_directories(dir_, ec);
}

SlapdProcess::~SlapdProcess() {
    if (started_) helper({"stop", "--dir", dir_});
}

ProcessResult SlapdProcess::helper(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {"python3", DREF_SLAPD_SERVER_PY};
    argv.insert(argv.end(), args.begin(), args.end());
    return runProcess(argv, 60000);
}

bool SlapdProcess::start(const std::vector<std::string>& ldifs, int port, std::string* error,
                         bool tls) {
    std::vector<std::string> args = {"start", "--dir", dir_, "--addr", addr_};
    if (tls) args.push_back("--tls");
    if (port == 0) port = port_;
    if (port != 0) {
        args.push_back("--port");
        args.push_back(std::to_string(port));
    }
    if (!started_) {
        for (const auto& f : ldifs) {
            args.push_back("--ldif");
            args.push_back(f);
        }
    }
    started_ = true;  // even a failed start may have left state to clean up
    ProcessResult r = helper(args);
    if (r.exitCode != 0) {
        if (error) *error = "slapd_server.py start failed: " + r.err + r.out;
        return false;
    }
    running_ = true;
    paused_ = false;
    uri_ = r.out.substr(0, r.out.find('\n'));
    const size_t colon = uri_.rfind(':');
    port_ = colon == std::string::npos ? 0 : std::stoi(uri_.substr(colon + 1));
    return true;
}

void SlapdProcess::stop() {
    helper({"stop", "--dir", dir_});
    running_ = paused_ = false;
}

void SlapdProcess::kill() {
    helper({"kill", "--dir", dir_});
    running_ = paused_ = false;
}

void SlapdProcess::pause() {
    helper({"pause", "--dir", dir_});
    paused_ = true;
}

void SlapdProcess::resume() {
    helper({"resume", "--dir", dir_});
    paused_ = false;
}

std::string SlapdProcess::stateValue(const std::string& name) const {
    // E.g. slapd_server.py moves the ldapi socket elsewhere when the path is
    // too long for sun_path; its state file has the real URI.
    std::ifstream in(dir_ + "/slapd.json");
    std::stringstream text;
    text << in.rdbuf();
    const std::string json = text.str();
    const std::string key = "\"" + name + "\": \"";
    const size_t at = json.find(key);
    if (at == std::string::npos) return std::string();
    const size_t begin = at + key.size();
    return json.substr(begin, json.find('"', begin) - begin);
}

ProcessResult SlapdProcess::ldapTool(const std::string& tool, const std::string& ldif) const {
    return runProcess({tool, "-x", "-H", uri_, "-D", kRootDn, "-w", kRootPassword, "-o", "nettimeout=5"},
                      30000, ldif);
}

int unusedPort(const std::string& addr) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    inet_pton(AF_INET, addr.c_str(), &sa.sin_addr);
    socklen_t len = sizeof sa;
    int port = 0;
    if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0) {
        port = ntohs(sa.sin_port);
    }
    close(fd);
    return port;
}

}  // namespace dref::test
