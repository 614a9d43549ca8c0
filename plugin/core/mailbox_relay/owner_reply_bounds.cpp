#include "owner_reply_bounds.h"

#include "ascii.h"

namespace dref {

OwnerReplyKind classifyOwnerUntagged(std::string_view name) noexcept {
    if (equalsIgnoreCaseAscii(name, "LIST") || equalsIgnoreCaseAscii(name, "LSUB"))
        return OwnerReplyKind::Listing;
    for (std::string_view word : {"FETCH", "EXPUNGE", "VANISHED", "EXISTS", "RECENT"})
        if (equalsIgnoreCaseAscii(name, word)) return OwnerReplyKind::PerMessage;
    return OwnerReplyKind::Other;
}

bool OwnerReplyBudget::admit(uint64_t commandSerial, OwnerReplyKind kind) noexcept {
    if (commandSerial != serial_) {
        serial_ = commandSerial;
        other_ = 0;
        perMessage_ = 0;
    }
    switch (kind) {
        case OwnerReplyKind::Listing:
            return true;
        case OwnerReplyKind::PerMessage:
            return ++perMessage_ <= kMaxOwnerMessageRepliesPerCommand;
        case OwnerReplyKind::Other:
            return ++other_ <= kMaxOwnerUntaggedPerCommand;
    }
    return true;
}

}  // namespace dref
