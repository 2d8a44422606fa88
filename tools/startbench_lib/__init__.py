"""startbench, the start-time and throughput benchmark (tools/startbench runs
it): one module per concern.

  bench     what every boot shares (options, a private runtime folder, live processes)
  paths     the compared paths: how to launch a boot and how to ask it to stop
  suites    the suites, their paths, metrics and floors; the ABBA round order
  measure   one boot timed (pidfd, first stdout byte), and a suite's rounds
  stats     p50/p90 and the ratios to the baseline
  report    the verdicts against the floors, the table
  plot      the distributions through gnuplot
  cli       the command line and the run
"""
