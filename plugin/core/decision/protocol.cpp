#include "protocol.h"

#include "ascii.h"

namespace dref {

Protocol protocolFromService(std::string_view service) {
    if (equalsIgnoreCaseAscii(service, "imap")) return Protocol::Imap;
    if (equalsIgnoreCaseAscii(service, "pop3")) return Protocol::Pop3;
    if (equalsIgnoreCaseAscii(service, "lmtp")) return Protocol::Lmtp;
    // Pigeonhole's managesieve-login authenticates with service "sieve".
    if (equalsIgnoreCaseAscii(service, "sieve") || equalsIgnoreCaseAscii(service, "managesieve"))
        return Protocol::ManageSieve;
    if (equalsIgnoreCaseAscii(service, "submission")) return Protocol::Submission;
    if (equalsIgnoreCaseAscii(service, "doveadm")) return Protocol::Doveadm;
    return Protocol::Other;
}

const char* protocolName(Protocol p) {
    switch (p) {
    case Protocol::Imap: return "imap";
    case Protocol::Pop3: return "pop3";
    case Protocol::Lmtp: return "lmtp";
    case Protocol::ManageSieve: return "managesieve";
    case Protocol::Submission: return "submission";
    case Protocol::Doveadm: return "doveadm";
    case Protocol::Other: return "other";
    }
    return "other";
}

bool proxyLogsIn(Protocol p) {
    return p != Protocol::Lmtp && p != Protocol::Doveadm;
}

uint16_t protocolPort(const ProtocolPorts& ports, Protocol p) {
    switch (p) {
    case Protocol::Pop3: return ports.pop3;
    case Protocol::Lmtp: return ports.lmtp;
    case Protocol::ManageSieve: return ports.managesieve;
    case Protocol::Submission: return ports.submission;
    case Protocol::Doveadm: return ports.doveadm;
    case Protocol::Imap:
    case Protocol::Other: return 0;
    }
    return 0;
}

}  // namespace dref
