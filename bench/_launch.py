"""Run a command as a grandchild and print its rusage as JSON (standard library only).

Linux carries a process's peak RSS across ``fork`` + ``exec`` (``ru_maxrss`` of a child starts
at the RSS of its parent at fork time), so a child forked from the benchmark process (GBs after
B1) reports at least that. Forked from this small launcher instead, the grandchild's
``ru_maxrss`` (from ``os.wait4``) is its own.
"""

import json
import os
import subprocess
import sys

if __name__ == "__main__":
    proc = subprocess.Popen(sys.argv[1:])
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    rusage = {
        "exit": proc.returncode,
        "maxrss_mb": usage.ru_maxrss / 1024,
        "cpu_s": usage.ru_utime + usage.ru_stime,
    }
    print(json.dumps(rusage), file=sys.stderr)
    sys.exit(proc.returncode)
