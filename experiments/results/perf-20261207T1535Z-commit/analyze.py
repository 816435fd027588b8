#!/usr/bin/env python3
"""Where RocksDB's commit spends its time on the members' threads.

Input: the text of `perf script -F tid,ip,sym,dso --comm etcd` over a
system-wide `perf record -a -g -e cpu-clock` (samples separated by blank
lines, the leaf frame first). Output: one CSV row per file with the share of
the etcd threads' samples in each part of the write path.
"""
import csv
import sys


def parts(path):
    text = open(path).read()
    total = 0
    c = dict.fromkeys(["write", "memtable", "memtable_faults", "memtable_user_memmove", "wal"], 0)
    for s in text.split("\n\n"):
        lines = [l.strip() for l in s.strip().split("\n") if l.strip()]
        if len(lines) < 2:
            continue
        total += 1
        fault = "handle_mm_fault" in s or "exc_page_fault" in s
        if "lsm_write_records" in s or "DBImpl::Write" in s:
            c["write"] += 1
        if "WriteBatch::Iterate" in s:  # the memtable insert of each record
            c["memtable"] += 1
            if fault:
                c["memtable_faults"] += 1
            elif "__memmove" in lines[1]:
                c["memtable_user_memmove"] += 1
        if "WriteToWAL" in s:
            c["wal"] += 1
    return total, c


w = csv.writer(sys.stdout)
w.writerow(["file", "etcd_samples"] + [k + "_pct" for k in
            ["write", "memtable", "memtable_faults", "memtable_user_memmove", "wal"]])
for path in sys.argv[1:]:
    total, c = parts(path)
    w.writerow([path, total] + ["%.2f" % (100 * v / total) for v in c.values()])
