# Pipelines, exit statuses, early close, binary and large data.
echo abc | tr a-z A-Z
printf 'c\nb\na\n' | sort | head -n 2
yes | head -n 3
yes abc | head -c 1000 | wc -c | tr -d ' '
false | true; echo "last true $?"
true | false; echo "last false $?"
seq 1 100000 | tail -n 1
head -c 4000000 /dev/zero | wc -c | tr -d ' '
head -c 300000 /dev/urandom > "${TMPDIR:-/tmp}/fsh-bin-$$"
cat "${TMPDIR:-/tmp}/fsh-bin-$$" | cat | cmp - "${TMPDIR:-/tmp}/fsh-bin-$$" && echo "binary identical"
rm -f "${TMPDIR:-/tmp}/fsh-bin-$$"
printf 'a\0b\0c' | tr '\0' '\n'
echo one two three | { read a b; echo "$b"; }
sh -c 'exit 3' | cat; echo "status $?"
cat /dev/null | cat | cat; echo "empty $?"
x=$(printf 'trail\n\n\n'); echo "[$x]"
echo "$(yes | head -n 2)"
ls / | grep -c . >/dev/null && echo "ls ok"
