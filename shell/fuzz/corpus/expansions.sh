echo ${x:-d} ${x=y} ${x?} ${x:+a} ${#x} ${x#p} ${x##p} ${x%s} ${x%%s}
echo $(cmd $(inner)) `bq` $((1 + $n)) ~/path "$@" $*
