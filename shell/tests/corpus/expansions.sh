# Parameter expansion: defaults, assignment, errors, alternates, trimming, length.
unset u; e=; s=value
echo "${u-d1} ${u:-d2} ${e-d3} ${e:-d4} ${s:-d5}"
echo "${u+a1} ${e+a2} ${e:+a3} ${s:+a4}"
echo "${u=assigned} $u"
echo "${e:=filled} $e"
p=/usr/local/lib/file.tar.gz
echo "${p#*/} ${p##*/} ${p%.*} ${p%%.*}"
echo "${p#/usr} ${p%gz} ${p#nomatch}"
echo "${#p} ${#e} ${#u}"
q='*.c'
echo "${q#\*}" "${q#"*"}"
set -- one "two three" four
echo $# "$1" "$2" "${3}"
for a in "$@"; do echo "[$a]"; done
for a in $@; do echo "<$a>"; done
for a in "$*"; do echo "{$a}"; done
IFS=:; echo "$*"; IFS=' 	
'
echo "${10-none}" "$0" > /dev/null
set -- 1 2 3 4 5 6 7 8 9 10 11
echo ${10} ${11} $#
shift 3; echo $1 $#
echo "$$" | grep -q '^[0-9][0-9]*$' && echo pid-ok
( exit 7 ); echo $?
true & wait $!; echo bg=$?
echo ~ | grep -q '^/' && echo tilde-ok
