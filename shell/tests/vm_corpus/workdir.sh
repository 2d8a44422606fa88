# Linux-image commands see the working folder (read-only, at the same
# path) and start in it; cd moves it. Writes go through the shell's own
# redirections.
printf 'x TODO one\ny\nz TODO two\n' > notes.txt
grep -n TODO notes.txt
cd sub
sort data.txt | tr a-z A-Z > ../sorted.txt
cd ..
cat < sorted.txt
ls sub
# File operands: the runtime's cat, wc, head and sha256sum read stdin only,
# so busybox's applet of the name runs these, in the shared folder.
cat sorted.txt
wc -l sub/data.txt
head -n 2 sub/data.txt
sha256sum notes.txt
# An operand outside the working folder: its folder is shared too, an
# absolute one ...
top=$PWD
cd sub
cat "$top/sorted.txt"
head -n 1 "$top/notes.txt"
ls "$top"
wc -l "$top/notes.txt" | sed "s|$top|TOP|"
# ... and one that climbs out of it.
tail -n 1 ../notes.txt
ls ..
cd ..
