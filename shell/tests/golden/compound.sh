if test -f a; then
  for i in 1 2; do echo $i; done
elif false; then :
else
  while x; do break; done
fi
case $v in a|b) echo ab;; *) ;; esac
f() { local n=$1; return $((n + 1)); }
{ a && b || ! c; } | (d; e &)
