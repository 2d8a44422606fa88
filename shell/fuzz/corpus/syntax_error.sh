# A syntax error late in a script: the commands before it run, then status 2.
echo before
f() { echo "function defined before the error"; }
f
if true; then echo inside; fi
echo "last good line"
if true; then
  echo never
done
echo never either
