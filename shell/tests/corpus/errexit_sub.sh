# set -e in a subshell ends only the subshell; a failing assignment ends the script.
set -e
(false; echo "not reached")  || echo "subshell failed"
(set +e; false; echo "set +e inside")
x=$(false) || echo "assignment failure caught"
echo end
