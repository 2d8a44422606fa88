# Functions: arguments, local positional parameters, return, recursion, locals.
greet() { echo "hello $1 ($#)"; }
greet world extra
set -- outer args
show() { echo "in: $*"; shift; echo "after shift: $*"; }
show a b c
echo "out: $*"
ret() { return $1; }
ret 5; echo "ret $?"
ret 0 && echo "ret ok"
fact() { if [ $1 -le 1 ]; then echo 1; else echo $(( $1 * $(fact $(( $1 - 1 ))) )); fi; }
fact 10
counter=0
bump() { counter=$((counter + 1)); }
bump; bump; echo "counter $counter"
scoped() { local v=inner; echo "$v"; }
v=outer; scoped; echo "$v"
early() { echo one; return; echo never; }
early
loopret() { for i in 1 2 3; do [ $i = 2 ] && return 9; done; }
loopret; echo "loopret $?"
redef() { echo first; }; redef() { echo second; }; redef
withredir() { echo "to stderr"; } 2>/dev/null >&2
withredir; echo "after redir"
f_status() { false; }
f_status || echo "function failed"
unset -f greet; greet x 2>/dev/null || echo "greet gone"
