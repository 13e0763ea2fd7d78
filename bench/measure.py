#!/usr/bin/env python3
"""measure.py - run a command N times; print the median wall time (ms), peak RSS (KiB) and
the median CPU time (ms, user and system, of the command and the children it waited for).

usage: measure.py N [--setup 'shell command'] -- command args...
The setup command runs before each repetition and is not timed (e.g. a fresh database).
Output: one line "median_ms max_rss_kib median_cpu_ms".
"""
import os, resource, subprocess, sys, tempfile, time

def main():
    args = sys.argv[1:]
    n = int(args.pop(0))
    setup = None
    if args and args[0] == "--setup":
        setup = args[1]
        args = args[2:]
    if args and args[0] == "--":
        args = args[1:]
    times, cpus, rss = [], [], 0
    for _ in range(n):
        if setup:
            subprocess.run(setup, shell=True, check=True, stdout=subprocess.DEVNULL)
        err = tempfile.TemporaryFile()
        t0 = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(err.fileno(), 2)
            try:
                os.execvp(args[0], args)
            finally:
                os._exit(127)
        _, status, ru = os.wait4(pid, 0)
        times.append((time.perf_counter() - t0) * 1000.0)
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            tail = err.read().decode(errors="replace").strip().splitlines()[-5:]
            sys.exit("measure.py: command failed (exit %d): %s\n%s"
                     % (os.waitstatus_to_exitcode(status), " ".join(args), "\n".join(tail)))
        err.close()
        rss = max(rss, ru.ru_maxrss)
        cpus.append((ru.ru_utime + ru.ru_stime) * 1000.0)
    times.sort()
    cpus.sort()
    print("%.1f %d %.1f" % (times[len(times) // 2], rss, cpus[len(cpus) // 2]))

main()
