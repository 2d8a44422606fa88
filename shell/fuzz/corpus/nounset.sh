# set -u: unset parameters are errors; defaults still work.
set -u
x=1
echo "${x} ${y-default} ${y:-d2}"
echo "${#x}"
(echo "$undefined_var"; echo "not reached") 2>/dev/null
echo "subshell status $?"
echo "last line"
