# Linux applets (busybox) against the host's GNU tools, in the C locale.
printf 'b x\na y\nb z\nc w\n' > in.txt
sed 's/ /=/' in.txt | sort -r | cut -c1-3
awk '{ n[$1]++ } END { for (k in n) print k, n[k] }' in.txt | sort
cut -d' ' -f1 < in.txt | sort | uniq -c | tail -n 2
