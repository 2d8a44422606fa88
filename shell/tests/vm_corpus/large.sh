# Four MB through a pipeline of runtime VMs, hashed at the end.
yes 0123456789abcdef | head -c 4000000 | cat | sha256sum
yes 0123456789abcdef | head -c 4000000 | wc -c
