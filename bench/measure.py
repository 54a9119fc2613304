"""Times commands and reads their peak RSS: median, spread and max of N runs each.

Usage: measure.py RUNS NAME=COMMAND... (each COMMAND is split with shlex; run in cwd).
Prints a Markdown table. Wall time is taken around each run; peak RSS in separate runs
under /usr/bin/time (a small C parent: a child forked from Python would count Python's own
pages until it execs).
"""
import shlex
import statistics
import subprocess
import sys
import time


def run(argv):
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        sys.exit("%s failed: %s" % (" ".join(argv), proc.stderr.decode()))
    return proc.stderr


def measure(argv, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run(argv)
        times.append(time.perf_counter() - start)
    rss = [int(run(["/usr/bin/time", "-f", "%M"] + argv).decode().split()[-1]) / 1024 for _ in range(runs)]
    return times, rss


def main():
    runs = int(sys.argv[1])
    rows = []
    for spec in sys.argv[2:]:
        name, command = spec.split("=", 1)
        measure(shlex.split(command), 1)  # warm the page cache
        times, rss = measure(shlex.split(command), runs)
        rows.append((name, command, times, rss))
    print("| tool | command | median | min | max | peak RSS |")
    print("|---|---|---|---|---|---|")
    for name, command, times, rss in rows:
        print("| %s | `%s` | %.1f ms | %.1f ms | %.1f ms | %.1f MiB |" % (
            name, command, statistics.median(times) * 1e3, min(times) * 1e3, max(times) * 1e3, max(rss)))
    if len(rows) == 2:
        ratio = statistics.median(rows[1][2]) / statistics.median(rows[0][2])
        print("\n%s's median is 1/%.0f of %s's (%d runs each)." % (rows[0][0], ratio, rows[1][0], runs))


main()
