# Runtime programs as VMs: stdin to stdout through a pipeline of VMs, all
# started at once, and the last stage's status.
printf 'one\ntwo\nthree\n' | cat | wc -l
printf 'hello, world\n' | upper
printf 'a b\nc\n' | wc -w
printf '1\n2\n3\n4\n5\n' | head -n 2
echo "status $?"
