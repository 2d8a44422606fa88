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
