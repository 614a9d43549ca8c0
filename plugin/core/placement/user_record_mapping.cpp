#include "user_record_mapping.h"

#include "imap_url.h"
#include "mutf7.h"
#include "referral_policy.h"
#include "response_text.h"

namespace dref {
namespace {

std::string quoted(const std::string& value) { return "'" + quoteForLog(value) + "'"; }

// The single value of a single-valued attribute, or nullptr (absent, or
// several values: then a warning, since which one is meant is unknowable).
const std::string* singleValue(const PlacementValue& v, const std::string& where,
                               std::vector<std::string>* warnings) {
    if (v.name.empty() || v.values == nullptr || v.values->empty()) return nullptr;
    if (v.values->size() > 1) {
        warnings->push_back(where + ": " + v.name + " has " + std::to_string(v.values->size()) +
                            " values where one is expected; all ignored");
        return nullptr;
    }
    return &v.values->front();
}

void mapHomeServer(const PlacementValues& pv, uint16_t homePort, const std::string& where,
                   UserRecord* record, std::vector<std::string>* warnings) {
    std::string urlError;
    if (const std::string* url = singleValue(pv.homeUrl, where, warnings)) {
        std::string error;
        auto parts = parseImapUrl(*url, &error);
        if (parts && isValidHostName(parts->host)) {
            record->home = HomeServer{parts->host, parts->port};
            if (record->referralUser.empty()) record->referralUser = parts->user;
            if (parts->mailbox && !parts->mailbox->empty()) {
                warnings->push_back(where + ": " + pv.homeUrl.name +
                                    " names a mailbox; only the server part is used");
            }
            return;
        }
        if (parts) error = "host is not a valid host name";
        urlError = pv.homeUrl.name + " " + quoted(*url) + " rejected: " + error;
        warnings->push_back(where + ": " + urlError);
    }
    if (const std::string* host = singleValue(pv.homeServer, where, warnings)) {
        if (isValidHostName(*host)) {
            record->home = HomeServer{*host, homePort};
            return;
        }
        std::string why = pv.homeServer.name + " " + quoted(*host) + " is not a valid host name";
        warnings->push_back(where + ": " + why);
        record->homeError = urlError.empty() ? why : urlError + "; " + why;
        return;
    }
    if (!pv.homeServer.name.empty() && pv.homeServer.values != nullptr &&
        pv.homeServer.values->size() > 1) {
        record->homeError = pv.homeServer.name + " has several values";
    } else if (!urlError.empty()) {
        record->homeError = urlError;
    }
}

void mapPolicy(const PlacementValue& v, const std::string& where, UserRecord* record,
               std::vector<std::string>* warnings) {
    const std::string* value = singleValue(v, where, warnings);
    if (value == nullptr) return;
    record->policy = parseReferralPolicy(*value);
    if (!record->policy) {
        warnings->push_back(where + ": " + v.name + " " + quoted(*value) +
                            " is not refer, suggest, proxy, proxy-suggest or local; ignored");
    }
}

void mapReferralUser(const PlacementValue& v, const std::string& where, UserRecord* record,
                     std::vector<std::string>* warnings) {
    const std::string* value = singleValue(v, where, warnings);
    if (value == nullptr) return;
    if (value->empty() || value->size() > kMaxReferralUserBytes || !isValidUtf8(*value) ||
        hasControlCharacter(*value)) {
        warnings->push_back(where + ": " + v.name + " " + quoted(*value) +
                            " is empty, too long, not UTF-8 or has control characters; ignored");
        return;
    }
    record->referralUser = *value;
}

}  // namespace

void mapPlacementValues(const PlacementValues& values, uint16_t homePort, const std::string& where,
                        UserRecord* record, std::vector<std::string>* warnings) {
    // The explicit referral user first: it wins over the URL's user part.
    mapReferralUser(values.referralUser, where, record, warnings);
    mapHomeServer(values, homePort, where, record, warnings);
    mapPolicy(values.policy, where, record, warnings);
}

}  // namespace dref
