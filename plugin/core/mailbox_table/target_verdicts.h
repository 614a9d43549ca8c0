#pragma once
// Whether a remote mailbox's location may be the target of a referral
// (R2193-3: never this server; REQUIREMENTS §2.6 item 3: only a host that
// allowed_hosts allows), as the remote mailbox table's build asks it for
// every location of a directory answer.
#include <cstdint>
#include <string>
#include <vector>

#include "imap_url_parts.h"

namespace dref {

// isThisServer and isAllowedTarget for a location's host and port, asked
// once per run of locations on the same server.  Most answers name one or
// a few servers, and the two checks (a glob match per allowed_hosts
// pattern, a host comparison per local name) were 40 % of the instructions
// of a 1,000-entry table build (issue 13 item 4); both depend on the host
// and port alone.
class TargetVerdicts {
public:
    enum class Verdict { Usable, ThisServer, NotAllowed };

    // Both lists are referred to, not copied: they must outlive this object.
    TargetVerdicts(const std::vector<std::string>& localNames,
                   const std::vector<std::string>& allowedHosts)
        : localNames_(localNames), allowedHosts_(allowedHosts) {}

    // ThisServer when the host and port name this server (isThisServer with
    // the local names; it comes first, a referral to ourselves would loop),
    // else NotAllowed when isAllowedTarget refuses the host, else Usable.
    // Inline for the repeated server, the build's common case.
    Verdict of(const ImapUrlParts& location) {
        if (known_ && location.port == port_ && location.host == host_) return verdict_;
        return judge(location);
    }

private:
    Verdict judge(const ImapUrlParts& location);

    const std::vector<std::string>& localNames_;
    const std::vector<std::string>& allowedHosts_;
    bool known_ = false;
    std::string host_;
    uint16_t port_ = 0;
    Verdict verdict_ = Verdict::Usable;
};

// Why a location is or is not referred to, for the build's warning about
// a refused one: "location 'host':port is this server, treated as local",
// "location 'host':port skipped: host not in allowed_hosts" (values quoted
// for logs).
std::string targetVerdictText(const ImapUrlParts& location, TargetVerdicts::Verdict verdict);

}  // namespace dref
