# Here-documents: expanded, quoted, tab-stripped, several on one line.
name=world
cat <<EOF
hello $name
sum $((2 + 3)) and $(echo sub)
escaped \$name and \\ and \`
EOF
cat <<'EOF'
no $name expansion `here`
EOF
cat <<"EOF"
also $name literal
EOF
cat <<-EOF
	tabs stripped $name
		all leading tabs
	EOF
cat <<A; cat <<B
first
A
second
B
while read l; do echo "line: $l"; done <<EOF
a
b
EOF
cat <<EOF | tr a-z A-Z
piped heredoc
EOF
x=$(cat <<EOF
inside substitution
EOF
)
echo "$x"
cat <<EOF
EOF
echo "empty done"
big=$(yes 0123456789 | head -n 20000)
cat <<EOF | wc -c
$big
EOF
