#include "referral_fields.h"

#include "user_record_mapping.h"

namespace dref {
namespace {

struct FieldSlot {
    const std::optional<std::string>* field;
    const char* name;
    const std::string* attribute;  // empty: the directory does not read it either
};

std::vector<FieldSlot> slots(const ReferralFields& f, const DirectorySettings& s) {
    return {{&f.homeServer, kFieldHomeServer, &s.homeServerAttribute},
            {&f.url, kFieldUrl, &s.homeUrlAttribute},
            {&f.policy, kFieldPolicy, &s.policyAttribute},
            {&f.user, kFieldUser, &s.referralUserAttribute}};
}

// "" -> no values (absent attribute); "a\tb" -> {"a", "b"}: Dovecot 2.4's
// %{ldap_multi:attr} joins several values with TAB, and several values of a
// single-valued attribute are refused as the directory path refuses them.
std::vector<std::string> splitValues(const std::string& field) {
    std::vector<std::string> out;
    if (field.empty()) return out;
    size_t start = 0;
    for (;;) {
        size_t tab = field.find('\t', start);
        out.push_back(field.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
        if (tab == std::string::npos) return out;
        start = tab + 1;
    }
}

// `name` is one of the names in the kFieldSet value.
bool namedInFieldSet(const std::optional<std::string>& fieldSet, const char* name) {
    if (!fieldSet) return false;
    const std::string& list = *fieldSet;
    const std::string want(name);
    size_t start = 0;
    while (start <= list.size()) {
        size_t end = list.find_first_of("+ :", start);
        if (end == std::string::npos) end = list.size();
        if (list.compare(start, end - start, want) == 0) return true;
        start = end + 1;
    }
    return false;
}

}  // namespace

ReferralFieldSet classifyReferralFields(const ReferralFields& fields, const DirectorySettings& s,
                                        std::string* missing) {
    size_t set = 0, wanted = 0;
    std::string absent;
    for (const FieldSlot& slot : slots(fields, s)) {
        const bool has = slot.field->has_value() || namedInFieldSet(fields.fieldSet, slot.name);
        if (has) ++set;
        if (slot.attribute->empty()) continue;
        ++wanted;
        if (!has) absent += (absent.empty() ? "" : ", ") + std::string(slot.name);
    }
    if (set == 0 && !fields.fieldSet) return ReferralFieldSet::None;
    if (absent.empty() && wanted > 0) return ReferralFieldSet::Complete;
    if (missing != nullptr) *missing = absent;
    return ReferralFieldSet::Partial;
}

void recordFromReferralFields(const ReferralFields& fields, const DirectorySettings& s,
                              UserRecord* record, std::vector<std::string>* warnings) {
    *record = UserRecord{};
    std::vector<std::string> values[4];
    PlacementValue* targets[4];
    PlacementValues pv;
    targets[0] = &pv.homeServer;
    targets[1] = &pv.homeUrl;
    targets[2] = &pv.policy;
    targets[3] = &pv.referralUser;
    size_t i = 0;
    for (const FieldSlot& slot : slots(fields, s)) {
        // A field whose attribute is not configured is ignored, as the
        // directory ignores that attribute.
        if (!slot.attribute->empty()) {
            targets[i]->name = slot.name;
            if (slot.field->has_value()) values[i] = splitValues(**slot.field);
            targets[i]->values = &values[i];
        }
        ++i;
    }
    mapPlacementValues(pv, s.homePort, "passdb fields", record, warnings);
}

}  // namespace dref
