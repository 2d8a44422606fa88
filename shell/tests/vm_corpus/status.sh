# Statuses: command not found is 127 (its message goes to stderr), a
# program's own status becomes $?, ! and && see it.
no_such_command_anywhere a b
echo "status $?"
printf 'x\n' | grep -q y
echo "grep status $?"
if printf 'abc\n' | grep -q b; then echo found; fi
! head -n 1 < /dev/null && echo "negated"
