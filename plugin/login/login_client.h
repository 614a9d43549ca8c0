#pragma once
// imap-login client glue: the vfunc overrides installed on every new client.
#include "login_settings.h"

struct module;

namespace dref {

// Registers the client_allocated hook.  `config` must outlive the hook.
void loginClientHooksAdd(struct module* module, const LoginPluginConfig* config);
void loginClientHooksRemove();

}  // namespace dref
