# time before a pipeline, with -p and !, bare, and as a plain word elsewhere.
time -p ! a | b
time
echo time; c | time d
