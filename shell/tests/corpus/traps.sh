# trap: EXIT runs once at the end (also after exit N), INT/USR1 handlers run.
trap 'echo "exit trap, status $?"' EXIT
trap 'echo got USR1' USR1
kill -USR1 $$
echo "after USR1"
trap - USR1
trap '' USR2
kill -USR2 $$
echo "USR2 ignored"
(trap 'echo sub exit' EXIT; echo in sub)
trap 'echo INT handled' INT
kill -INT $$
echo "after INT"
f() { exit 4; }
f
echo never
