# Exported variables and a command's own assignments reach the program in
# its VM; a variable that is not exported does not.
export GREETING='hi there'
MULTI="$(printf 'line one\nline two')"
export MULTI
PRIVATE=secret
ONE=1 sh -c 'echo "$GREETING|$ONE|${PRIVATE-unset}"; echo "$MULTI"'
