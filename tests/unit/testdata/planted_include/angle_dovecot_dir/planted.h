// Planted for the no_dovecot_includes self-test: this MUST be detected.
#  include <dovecot/mail-storage.h>
