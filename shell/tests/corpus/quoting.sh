# Quoting: single, double, backslash, and what each leaves alone.
x='a  b'
echo $x
echo "$x"
echo '$x "in" single'
echo "double 'single' \$x \"q\" \\ \`"
echo a\ b\ \ c
echo "a\nb" 'c\nd'
printf '%s|' "$x" $x ''; echo
printf '%s\n' "tab	in" 'new
line'
echo "${x}" "${x}x" "pre${x}post"
echo \\$x
echo "$"  '$' $
y=""; printf '[%s]' "$y" $y "" ''; echo
printf '[%s]' "a"'b'c"d"; echo
echo "nested $(echo "inner $x")"
echo `echo back\`tick\``
