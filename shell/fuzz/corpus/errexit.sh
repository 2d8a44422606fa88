# set -e: which failures end the script and which do not.
set -e
false || echo "or-list survives"
if false; then :; fi
while false; do :; done
! true
false && true
x=$(echo ok); echo "$x"
f() { false; echo "not reached in f"; }
f || echo "f in a condition continues"
{ false && true; }
echo "before the end"
false
echo "never printed"
