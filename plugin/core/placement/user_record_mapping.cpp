#include "user_record_mapping.h"

#include "imap_url.h"
#include "mutf7.h"
#include "referral_policy.h"
#include "response_text.h"

namespace dref {

size_t PlacementValue::count() const {
    if (values != nullptr) return values->size();
    if (!tabJoined || tabJoined->empty()) return 0;
    size_t n = 1;
    for (char c : *tabJoined) n += c == '\t';
    return n;
}

std::string_view PlacementValue::first() const {
    if (values != nullptr) return values->front();
    return tabJoined->substr(0, tabJoined->find('\t'));
}

namespace {

std::string quoted(std::string_view value) { return "'" + quoteForLog(value) + "'"; }

// The single value of a single-valued attribute, or nullopt (absent, or
// several values: then a warning, since which one is meant is unknowable).
std::optional<std::string_view> singleValue(const PlacementValue& v, const std::string& where,
                                            std::vector<std::string>* warnings) {
    if (v.name.empty()) return std::nullopt;
    const size_t n = v.count();
    if (n == 0) return std::nullopt;
    if (n > 1) {
        warnings->push_back(where + ": " + std::string(v.name) + " has " + std::to_string(n) +
                            " values where one is expected; all ignored");
        return std::nullopt;
    }
    return v.first();
}

void mapHomeServer(const PlacementValues& pv, uint16_t homePort, const std::string& where,
                   UserRecord* record, std::vector<std::string>* warnings) {
    std::string urlError;
    if (std::optional<std::string_view> url = singleValue(pv.homeUrl, where, warnings)) {
        std::string error;
        auto parts = parseImapUrl(*url, &error);
        if (parts && isValidHostName(parts->host)) {
            record->home = HomeServer{parts->host, parts->port};
            if (record->referralUser.empty()) record->referralUser = parts->user;
            if (parts->mailbox && !parts->mailbox->empty()) {
                warnings->push_back(where + ": " + std::string(pv.homeUrl.name) +
                                    " names a mailbox; only the server part is used");
            }
            return;
        }
        if (parts) error = "host is not a valid host name";
        urlError = std::string(pv.homeUrl.name) + " " + quoted(*url) + " rejected: " + error;
        warnings->push_back(where + ": " + urlError);
    }
    if (std::optional<std::string_view> host = singleValue(pv.homeServer, where, warnings)) {
        if (isValidHostName(*host)) {
            record->home = HomeServer{std::string(*host), homePort};
            return;
        }
        std::string why = std::string(pv.homeServer.name) + " " + quoted(*host) +
                          " is not a valid host name";
        warnings->push_back(where + ": " + why);
        record->homeError = urlError.empty() ? why : urlError + "; " + why;
        return;
    }
    if (!pv.homeServer.name.empty() && pv.homeServer.count() > 1) {
        record->homeError = std::string(pv.homeServer.name) + " has several values";
    } else if (!urlError.empty()) {
        record->homeError = urlError;
    }
}

void mapPolicy(const PlacementValue& v, const std::string& where, UserRecord* record,
               std::vector<std::string>* warnings) {
    std::optional<std::string_view> value = singleValue(v, where, warnings);
    if (!value) return;
    record->policy = parseReferralPolicy(*value);
    if (!record->policy) {
        warnings->push_back(where + ": " + std::string(v.name) + " " + quoted(*value) +
                            " is not refer, suggest, proxy, proxy-suggest or local; ignored");
    }
}

void mapReferralUser(const PlacementValue& v, const std::string& where, UserRecord* record,
                     std::vector<std::string>* warnings) {
    std::optional<std::string_view> value = singleValue(v, where, warnings);
    if (!value) return;
    if (value->empty() || value->size() > kMaxReferralUserBytes || !isValidUtf8(*value) ||
        hasControlCharacter(*value)) {
        warnings->push_back(where + ": " + std::string(v.name) + " " + quoted(*value) +
                            " is empty, too long, not UTF-8 or has control characters; ignored");
        return;
    }
    record->referralUser = std::string(*value);
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
