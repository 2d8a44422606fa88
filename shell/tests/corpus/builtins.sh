# Builtins: printf, test, read, eval, export, unset, cd, trap, command.
printf '%d %5s|%-5s|%x %o %c %%\n' 42 ab cd 255 8 xyz
printf '%s\n' a b c
printf '%03d %.2s %b\n' 7 abcdef 'x\ty'
test 1 -eq 1 && echo eq
[ abc = abc ] && echo streq
[ -n "" ] || echo empty-n
[ -z "" ] && echo empty-z
[ -d / ] && [ ! -f / ] && echo dir
[ 2 -gt 1 -a 3 -lt 4 ] && echo and
[ \( 1 -eq 2 \) -o 1 -eq 1 ] && echo paren-or
[ x ] && echo one-arg
[ ] || echo no-arg
echo "a b c" | { read x y; echo "$x|$y"; }
printf 'back\\slash\n' | { read -r r; echo "$r"; }
cmd='echo evaluated $((1+1))'; eval "$cmd"
eval 'v=5'; echo $v
export EXPORTED=yes; sh -c 'echo "child sees $EXPORTED"'
NOTEXPORTED=no; sh -c 'echo "child sees [${NOTEXPORTED-}]"'
ONLY=temp sh -c 'echo "prefix $ONLY"'; echo "after [${ONLY-}]"
unset v; echo "unset [${v-gone}]"
cd /tmp && pwd
cd - >/dev/null; echo back
trap 'echo trapped exit' EXIT
command echo via command
type_check() { echo function; }; command -v >/dev/null 2>&1 || true
echo "${PWD:+pwd set}"
# type and command -v/-V: how a name would run (a host program: its path).
tf() { :; }
type cd if tf export cat nosuch-command; echo "type status $?"
command -v cd; command -v if; command -v tf; command -v cat
command -v nosuch-command; echo "command -v status $?"
command -V cd; command -V nosuch-command; echo "command -V status $?"
command -p echo via command -p
