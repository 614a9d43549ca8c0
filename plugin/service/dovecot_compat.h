#pragma once
// The referral-directory service's one contact surface with Dovecot's
// headers (libdovecot's master-service API), and the only place where
// Dovecot 2.3 and 2.4 differ for it.  service_main.cpp is written once for
// both versions.
//
// The headers are C without extern "C" guards (DOVECOT-NOTES §4.1).
extern "C" {
#include "lib.h"
#include "ioloop.h"
#include "restrict-access.h"
#include "master-interface.h"
#include "master-service.h"
#include "master-service-settings.h"
}

namespace dref {
namespace compat {

// Reads Dovecot's own settings for this service (log settings, base_dir)
// from the config process.  2.3 takes a list of extra setting roots (none
// here); 2.4 takes none.  false + *error on failure.
bool readServiceSettings(struct master_service* service, const char** error) noexcept;

}  // namespace compat
}  // namespace dref
