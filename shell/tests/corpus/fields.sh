# Field splitting and globbing on host paths.
cd "${TMPDIR:-/tmp}" || exit 1
d=fsh-glob-$$; mkdir $d && cd $d || exit 1
touch b.txt a.txt c.log .hidden
echo *.txt
echo *
echo .h*
echo "*.txt" '*'
echo nomatch*
echo [ab].txt ?.log
mkdir sub; touch sub/x.c sub/y.c
echo sub/*.c */*.c
set -f; echo *.txt; set +f
x="a:b::c"; IFS=:; set -- $x; echo $#; IFS=' 	
'
y="  lead  and  trail  "; set -- $y; echo $# "[$1]"
IFS=,; z="1,2,,3,"; set -- $z; echo $#; printf '<%s>' "$@"; echo; unset IFS
w="one two"; set -- $w "$w" ""; echo $#
empty=; set -- $empty; echo "empty fields $#"
set -- "" ; echo "quoted empty $#"
cd .. && rm -r $d
