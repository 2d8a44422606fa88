# pipefail against bash --posix: yes dies of the closed pipe (128+13).
set -o pipefail
yes | head -n 1
echo "status $?"
