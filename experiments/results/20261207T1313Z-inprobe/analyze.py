#!/usr/bin/env python3
"""Reads the write timelines of the runs given (raw/stages/*-write-timeline.csv)
and, for each run that has them, the in-process probe files (probe/probe-<pid>.csv)
and the machine's disk counters,
and writes windows.csv (one row per 20 s window of every write benchmark) and
prints the Markdown tables of README.md. Python 3 standard library only."""
import csv, glob, os, re, statistics as st, sys

WINDOW = 4  # samples of 5 s

def pearson(xs, ys):
    mx, my = st.mean(xs), st.mean(ys)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    return sxy / (sxx * syy) ** 0.5

def probes(run):
    """Probe files grouped by step (three members each), in step order."""
    files = []
    for f in glob.glob(os.path.join(run, 'probe', 'probe-*.csv')):
        rows = [list(map(float, r)) for r in list(csv.reader(open(f)))[1:] if len(r) == 4]
        if rows:
            files.append((rows[0][0], rows))
    files.sort(key=lambda x: x[0])
    return [files[i:i + 3] for i in range(0, len(files), 3)]

def steps(run):
    out = []
    for line in open(os.path.join(run, 'progress.log')):
        m = re.match(r'\[(\d+)/\d+\] .* · (\S+) · round (\d+)/', line)
        if m:
            out.append((m.group(2), int(m.group(3))))
    return out

windows = []
for run in sys.argv[1:]:
    pr = probes(run)
    for i, (variant, rnd) in enumerate(steps(run)):
        path = os.path.join(run, 'raw', 'stages', '%s-r%d-write-timeline.csv' % (variant, rnd))
        if not os.path.exists(path):
            continue
        tl = list(csv.DictReader(open(path)))
        if 'wal_fsyncs_m1' not in tl[0]:
            continue
        members = [k[len('cpu_s_'):] for k in tl[0] if k.startswith('cpu_s_')]
        tri = pr[i] if i < len(pr) else []
        # a member's first probe line is written 5 s after it starts; the
        # write benchmark starts about 6 s after that (cluster start-up).
        t0 = min(t[0] for t in tri) + 1 if tri else None
        for j in range(0, len(tl) - WINDOW, WINDOW):
            a, b = tl[j], tl[j + WINDOW]
            d = lambda c: float(b[c] or 0) - float(a[c] or 0)
            puts, secs = d('puts'), d('t_s')
            fs = sum(d('wal_fsyncs_' + m) for m in members)
            fss = sum(d('wal_fsync_s_' + m) for m in members)
            w = dict(run=os.path.basename(run.rstrip('/')), variant=variant, round=rnd,
                     t_s=float(a['t_s']), puts_k=float(a['puts']) / 1000,
                     writes_per_s=puts / secs, cpu_us_per_put=d('members_cpu_s') / puts * 1e6,
                     wal_fsync_ms=fss / fs * 1e3, puts_per_fsync=puts * len(members) / fs,
                     compaction_mib=sum(d('compaction_bytes_' + m) for m in members) / 2**20,
                     harness_compute_ms='', harness_memory_ms='', member_compute_ms='', member_memory_ms='', member_fault4m_ms='',
                     disk_write_ms='', disk_flush_ms='', disk_discards='')
            if a.get('disk_writes') and b.get('disk_writes'):  # the block layer's own times per request
                w['disk_write_ms'] = d('disk_write_ms') / max(1, d('disk_writes'))
                w['disk_flush_ms'] = d('disk_flush_ms') / max(1, d('disk_flushes'))
                w['disk_discards'] = d('disk_discards')
            hc = [float(r['probe_compute_ms']) for r in tl[j:j + WINDOW + 1] if r.get('probe_compute_ms')]
            hm = [float(r['probe_memory_ms']) for r in tl[j:j + WINDOW + 1] if r.get('probe_memory_ms')]
            if hc:
                w['harness_compute_ms'], w['harness_memory_ms'] = st.mean(hc), st.mean(hm)
            if t0 is not None:
                ps = [r for _, rows in tri for r in rows if t0 + float(a['t_s']) <= r[0] < t0 + float(b['t_s'])]
                if ps:
                    w['member_compute_ms'] = st.mean(r[1] for r in ps)
                    w['member_memory_ms'] = st.mean(r[2] for r in ps)
                    w['member_fault4m_ms'] = st.mean(r[3] for r in ps)
            windows.append(w)

out = os.path.join(sys.argv[-1], 'windows.csv')
with open(out, 'w', newline='') as f:
    wr = csv.DictWriter(f, fieldnames=list(windows[0]))
    wr.writeheader()
    for w in windows:
        wr.writerow({k: ('%.4g' % v if isinstance(v, float) else v) for k, v in w.items()})
print('wrote', out, len(windows), 'windows\n')

cols = ['writes_per_s', 'wal_fsync_ms', 'puts_per_fsync', 'harness_compute_ms', 'harness_memory_ms', 'member_compute_ms', 'member_memory_ms', 'member_fault4m_ms', 'disk_write_ms', 'disk_flush_ms', 'disk_discards']
print('| correlation with members\' CPU per put (Pearson r over 20 s windows) | all | ' + ' | '.join(sorted({w['variant'] for w in windows})) + ' |')
print('|---|---|' + '---|' * len({w['variant'] for w in windows}))
for c in cols:
    cells = []
    for v in [None] + sorted({w['variant'] for w in windows}):
        ws = [w for w in windows if (v is None or w['variant'] == v) and w[c] != '']
        cells.append('%.2f (n=%d)' % (pearson([w[c] for w in ws], [w['cpu_us_per_put'] for w in ws]), len(ws)) if len(ws) > 2 else '–')
    print('| %s | %s |' % (c, ' | '.join(cells)))
