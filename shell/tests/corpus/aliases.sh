# Aliases: substituted in command position for commands parsed after the
# definition; a value ending in a blank makes the next word a command word
# too; an alias never expands itself again; inside $( ), ` `, functions,
# compound commands and pipelines; after assignments and redirections.
alias ll='ls -d' q='echo "it'"'"'s"' e='echo ' w='echo w:' r='w again'
alias ll; alias q
alias nope 2>/dev/null; echo "missing $?"
ll /; q; r
e ll
alias loop=loop2 loop2=loop self='self x'
loop 2>/dev/null; echo "loop $?"
self 2>/dev/null; echo "self $?"
alias p='echo a | tr a b' two='echo one; echo two'
p; two
alias x='X=1 echo'
x "[$X]"
X=2 w prefixed
>/dev/null w redirected; echo after
echo $(w in-subst) `w in-backquotes`
g() { w in-function; }; g
if true; then w in-if; fi
for i in 1 2; do w "loop $i"; done | cat
unalias ll; alias ll 2>/dev/null; echo "unaliased $?"
unalias nope 2>/dev/null; echo "unalias missing $?"
unalias -a; alias; echo cleared
# An alias at a pipeline's start may give its `!`.
alias notfalse='! false'
alias neg='! '
notfalse; echo "notfalse $?"
neg true; echo "neg true $?"
notfalse | cat; echo "piped $?"
