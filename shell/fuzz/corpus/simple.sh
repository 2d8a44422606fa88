# A simple command with assignments, quoting and redirections.
A=1 echo "x $y" 'z' >out 2>&1 <<E
text $HOME
E
