# getopts: options alone and together, values attached and apart, --,
# unknown options and missing values (loud and silent), OPTIND after each,
# the positional parameters by default; and umask, octal and symbolic;
# ulimit, times and hash; getopts after set --.
# (POSIX unsets OPTARG after an option without a value, dash empties it:
# ${OPTARG:-none} reads the same either way.)
f() {
    OPTIND=1
    while getopts "ab:c" opt "$@"; do
        echo "opt=$opt OPTARG=${OPTARG:-none} OPTIND=$OPTIND"
    done
    echo "end opt=$opt OPTIND=$OPTIND"
}
f -a -b val -c rest
f -acb v x
f -bval -- -a
f -x -a 2>/dev/null
f -b 2>/dev/null
f
g() { OPTIND=1; while getopts ":b:x" o "$@"; do echo "o=$o OPTARG=$OPTARG"; done; }
g -q -b
set -- -a -c file
OPTIND=1
while getopts ac o; do echo "pos $o $OPTIND"; done
shift $((OPTIND - 1)); echo "left: $*"
getopts a 1bad -a 2>/dev/null; echo "bad name $?"
getopts a 2>/dev/null; echo "no name $?"
umask 022; umask; umask -S
umask 027; umask
umask u=rwx,g=rx,o=; umask
umask g+w,o+r; umask -S
umask a-x; umask -S
umask 999 2>/dev/null; echo "bad mask $?"
umask u=q 2>/dev/null; echo "bad mode $?"
umask 077; echo made > "$TMPDIR/umask-made"; ls -l "$TMPDIR/umask-made" | cut -c1-10

ulimit; ulimit -f; ulimit -n; ulimit -Hn; ulimit -a
(ulimit -n 100; ulimit -n; ulimit -Sn); ulimit -n
ulimit -q 2>/dev/null; echo "bad option $?"
ulimit -n lots 2>/dev/null; echo "bad limit $?"
times | wc -l
hash cat; hash nosuch-command 2>/dev/null; echo "hash $?"
# set -- starts getopts over at the first argument (OPTIND reads as before
# until getopts runs); OPTIND set after it decides instead.
set -- -a -b x
getopts ab o; echo "1 $o $OPTIND"
set -- -c -d
echo "visible $OPTIND"
getopts cd o; echo "2 $o $OPTIND"
getopts cd o; echo "3 $o $OPTIND"
set -- -ab
getopts ab o; echo "4 $o $OPTIND"
set -- -xy
getopts xy o; echo "5 $o $OPTIND"
set -- -p -q
OPTIND=2
getopts pq o; echo "6 $o $OPTIND"
