#pragma once
// A throwaway slapd driven through tests/support/slapd_server.py (the same
// helper the lab and the integration tests use).  The destructor stops it,
// so a failing test still leaves nothing running.
#include <string>
#include <vector>

#include "process_runner.h"

namespace dref::test {

class SlapdProcess {
public:
    static constexpr const char* kRootDn = "cn=admin,dc=example,dc=test";
    static constexpr const char* kRootPassword = "dref-test-secret";

    // `dir` is wiped (after stopping whatever a crashed earlier run left there).
    SlapdProcess(std::string dir, std::string addr);
    ~SlapdProcess();
    SlapdProcess(const SlapdProcess&) = delete;
    SlapdProcess& operator=(const SlapdProcess&) = delete;

    // First call bootstraps and loads `ldifs`; later calls restart on the same
    // port with the same data.  port 0 = a free one.  `tls` (first start
    // only): a test CA and certificate, StartTLS and an ldaps:// listener.
    bool start(const std::vector<std::string>& ldifs = {}, int port = 0, std::string* error = nullptr,
               bool tls = false);
    void stop();
    void kill();    // SIGKILL, like a crash
    void pause();   // SIGSTOP: connections are accepted but never answered
    void resume();  // SIGCONT

    // As far as this object's own calls go.
    bool running() const { return running_; }
    bool paused() const { return paused_; }

    const std::string& uri() const { return uri_; }
    int port() const { return port_; }
    const std::string& addr() const { return addr_; }
    const std::string& dir() const { return dir_; }
    std::string ldapiUri() const { return stateValue("ldapi_uri"); }
    std::string ldapsUri() const { return stateValue("ldaps_uri"); }  // with tls
    std::string caFile() const { return stateValue("ca_file"); }      // with tls

    // ldapadd / ldapmodify as the root DN with `ldif` on stdin; returns the
    // tool's exit status, which is the LDAP result code (19, 21, 65 ...).
    ProcessResult ldapTool(const std::string& tool, const std::string& ldif) const;

private:
    // A string member of the helper's state file slapd.json.
    std::string stateValue(const std::string& key) const;
    ProcessResult helper(const std::vector<std::string>& args) const;

    std::string dir_;
    std::string addr_;
    std::string uri_;
    int port_ = 0;
    bool started_ = false;
    bool running_ = false;
    bool paused_ = false;
};

// A TCP port on `addr` with nothing listening (bound and released).
int unusedPort(const std::string& addr);

}  // namespace dref::test
