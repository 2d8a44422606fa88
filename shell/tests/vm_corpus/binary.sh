# Every byte value, NULs included, through two VMs and back unchanged.
i=0
while [ $i -lt 256 ]; do
    printf "\\$(printf %o $i)"
    i=$((i + 1))
done > bytes
cat < bytes | cat > copy
wc -c < copy
cmp bytes copy && echo same
sha256sum < bytes
head -c 100 < bytes | wc -c
