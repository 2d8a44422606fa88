# Exit codes: commands, not found, signals, exit in subshells.
true; echo $?
false; echo $?
sh -c 'exit 42'; echo $?
nonexistent_command_xyz 2>/dev/null; echo $?
sh -c 'kill -TERM $$'; echo $?
(exit 3); echo $?
(exit 300); echo $?
$(exit 4); echo $?
x=$(exit 5); echo $?
f() { (exit 6); }; f; echo $?
sh -c 'exit 2' || echo "or-ed $?"
exit 17
