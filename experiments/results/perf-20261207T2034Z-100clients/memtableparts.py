import sys, collections
tot=0; c=collections.Counter(); n=0
for block in open(sys.argv[1]).read().split('\n\n'):
    lines=[l.strip() for l in block.strip().split('\n') if l.strip()]
    if len(lines)<2: continue
    tot+=1; fr=lines[1:]
    if not any('lsm_write_records' in l for l in fr): continue
    if any('WriteToWAL' in l for l in fr): continue
    if not any('InsertInto' in l or 'MemTableInserter' in l for l in fr): continue
    n+=1
    leaf=fr[0].split(None,1)[1]
    tag='kernel-fault' if any('exc_page_fault' in l or 'handle_mm_fault' in l for l in fr) else ('kernel' if 'kernel' in leaf else leaf[:80])
    c[tag]+=1
print('memtable %.2f%%'%(100*n/tot))
for k,v in c.most_common(15): print('%6.2f%% %s'%(100*v/tot,k))
