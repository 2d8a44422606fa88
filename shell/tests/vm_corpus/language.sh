# The language around VM commands: here-documents as stdin, command
# substitution of a pipeline of VMs, a function and a loop running VMs,
# file redirections, and stderr as its own stream (2>&1 joins it).
upper <<EOF
here-document, $((6 * 7))
EOF
n=$(printf 'a\nb\nc\n' | wc -l)
echo "n=$n"
shout() { printf '%s\n' "$*" | upper; }
for w in one two; do shout "$w"; done
printf 'kept\n' | cat > out.txt
wc -c < out.txt
grep pattern no-such-file 2>/dev/null
echo "grep missing file: $?"
grep pattern no-such-file 2>&1 | wc -l
