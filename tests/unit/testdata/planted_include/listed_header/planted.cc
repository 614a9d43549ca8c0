// Planted for the no_dovecot_includes self-test: this MUST be detected
// (str.h is a Dovecot header and no such file exists in plugin/core or ldap/).
#include "str.h"
