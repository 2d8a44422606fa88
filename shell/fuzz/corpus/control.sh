# if, while, until, for, case, break, continue.
if true; then echo t1; else echo f1; fi
if false; then echo t2; elif true; then echo elif2; else echo f2; fi
if false; then :; fi; echo "status $?"
i=0
while [ $i -lt 10 ]; do
  i=$((i + 1))
  [ $i -eq 3 ] && continue
  [ $i -eq 6 ] && break
  echo "while $i"
done
until [ $i -le 0 ]; do i=$((i - 2)); done; echo "until $i"
for w in a b c; do for v in 1 2 3; do [ $v = 2 ] && continue 2; echo "$w$v"; done; done
for w in x y; do for v in 1 2; do [ $w = y ] && break 2; echo "$w$v"; done; done
for f in; do echo never; done; echo empty-for
for word in "a b" c; do echo "[$word]"; done
case hello in
  h*o) echo "glob match";;
  *) echo default;;
esac
case x.c in *.h|*.c) echo "c or h";; esac
case '*' in \*) echo "literal star";; esac
case abc in (a?c) echo "paren pattern";; esac
case "" in "") echo "empty";; esac
case z in a) echo a;; [x-z]) echo "range";; esac
case q in a) echo no;; esac; echo "case none $?"
! true; echo "bang $?"
! false; echo "bang $?"
true && echo and1 || echo or1
false && echo and2 || echo or2
false || false || echo or3
{ echo grouped; echo twice; } | wc -l | tr -d ' '
(cd /; pwd); pwd | grep -qv '^/$' && echo subshell-cd-kept
x=1; (x=2); echo "subshell var $x"
x=1; { x=3; }; echo "group var $x"
