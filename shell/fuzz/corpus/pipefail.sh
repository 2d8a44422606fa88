# set -o pipefail: the rightmost failing command's status (against bash --posix).
set -o pipefail
false | true; echo "pipefail $?"
true | true; echo "all ok $?"
sh -c 'exit 3' | sh -c 'exit 4' | true; echo "rightmost $?"
yes | head -n 1 >/dev/null; echo "sigpipe $?"
set +o pipefail
false | true; echo "off $?"
