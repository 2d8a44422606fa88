# A reader that stops early: head takes three lines and ends; yes, writing
# into the closed pipe, ends too (141, like SIGPIPE), and the pipeline's
# status is head's.
yes | head -n 3
echo "status $?"
yes fleet | head -n 2 | upper
echo "status $?"
