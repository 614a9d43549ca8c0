// The version-dependent operations of the referral-directory service.
#include "dovecot_compat.h"

namespace dref {
namespace compat {

bool readServiceSettings(struct master_service* service, const char** error) noexcept {
#if DOVECOT_PREREQ(2, 4, 0)
    return master_service_settings_read_simple(service, error) >= 0;
#else
    return master_service_settings_read_simple(service, nullptr, error) >= 0;
#endif
}

}  // namespace compat
}  // namespace dref
