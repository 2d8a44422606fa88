# Reading loops, IFS in read, loops in pipelines, redirected loops.
printf 'a b c\nd e f\n' | while read x y; do echo "$x-$y"; done
printf 'k1=v1\nk2=v2\n' > "${TMPDIR:-/tmp}/fsh-kv-$$"
while IFS== read k v; do echo "$k is $v"; done < "${TMPDIR:-/tmp}/fsh-kv-$$"
rm -f "${TMPDIR:-/tmp}/fsh-kv-$$"
n=0; for i in 1 2 3; do n=$((n + i)); done | cat; echo "n stays $n"
for i in 3 1 2; do echo $i; done | sort
i=0; while [ $i -lt 3 ]; do echo "w$i"; i=$((i+1)); done > "${TMPDIR:-/tmp}/fsh-w-$$"
cat "${TMPDIR:-/tmp}/fsh-w-$$"; rm -f "${TMPDIR:-/tmp}/fsh-w-$$"
printf 'no newline' | { read l; echo "status $? [$l]"; }
printf 'x\\\ny\n' | { read l; echo "[$l]"; }
echo "  padded  " | { read l; echo "[$l]"; }
echo "  padded  " | { IFS= read l; echo "[$l]"; }
