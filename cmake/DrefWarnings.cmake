# Warnings for our own targets only: Dovecot's headers are included as
# SYSTEM so their warnings do not drown ours.
function(dref_target_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra)
endfunction()
