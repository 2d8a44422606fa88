# Comments, continuations, separators and odd-but-valid syntax.
echo one # a comment
echo two#not-a-comment
echo three \
  continued
if true
then
  echo multi-line-if
fi
for i in a \
  b; do echo "$i"; done
{ echo brace; } ; ( echo paren )
echo a;echo b&&echo c||echo d
x=1 y=2; echo $x$y
echo $(echo $(echo nested) "$(echo "deep quoted")")
echo "$(case x in x) echo case-in-subst;; esac)"
f()
{
  echo "body on next line"
}
f
g() ( echo "subshell body" )
g
while false
do
  :
done
echo done-loop
a=$(
  echo multi
  echo line
)
echo "$a"
echo 'single
multi'
v=abc; echo "${v}def" ${v}ghi
echo $((1+
2))
case a in
  a)
    echo "case body"
    ;;
esac
echo end
