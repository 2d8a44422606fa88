# Redirections: files, appending, fds, duplication, closing.
cd "${TMPDIR:-/tmp}" || exit 1
d=fsh-diff-$$; mkdir $d && cd $d || exit 1
echo one > f
echo two >> f
cat < f
cat f f | wc -l | tr -d ' '
echo err 2> e >&2; cat e
{ echo out; echo err >&2; } > both 2>&1; cat both
{ echo out; echo err >&2; } 2>&1 >/dev/null
exec 3> fd3
echo "via 3" >&3
exec 3>&-
cat fd3
echo hi >&- 2>/dev/null; echo "closed stdout status $?" > /dev/null
exec 4< f
read line <&4; echo "read: $line"
read line <&4; echo "read: $line"
exec 4<&-
echo data > rw; cat 0<> rw
echo x > "name with space"; ls "name with space"
echo > empty; wc -c < empty | tr -d ' '
> truncated; wc -c < truncated | tr -d ' '
echo abc | { read v; echo "piped read $v"; }
cat missing 2>/dev/null; echo "missing $?"
echo text > /nonexistent/dir/file 2>/dev/null; echo "bad redirect $?"
cd .. && rm -r $d
