import sys, collections
f=sys.argv[1]
tot=0; c=collections.Counter(); leafs=collections.Counter()
for block in open(f).read().split('\n\n'):
    lines=[l.strip() for l in block.strip().split('\n') if l.strip()]
    if len(lines)<2: continue
    tot+=1
    frames=lines[1:]
    idx=[i for i,l in enumerate(frames) if 'WriteToWAL' in l or 'SyncWAL' in l or 'WritableFileWriter::Sync' in l]
    if not any('lsm_write_records' in l for l in frames): continue
    c['write']+=1
    if not idx: 
        if any('WriteBatchInternal::InsertInto' in l or 'MemTableInserter' in l for l in frames): c['memtable']+=1
        else:
            c['other']+=1; leafs['other:'+frames[0].split(None,1)[1][:90]]+=1
        continue
    c['wal']+=1
    leaf=frames[0]
    if 'kernel' in leaf: c['wal_kernel']+=1
    else: c['wal_user']+=1
    leafs[frames[0].split(None,1)[1][:90]]+=1
print('total',tot)
for k,v in c.items(): print('%-12s %6.2f%%'%(k,100*v/tot))
for k,v in leafs.most_common(30): print('%6.2f%% %s'%(100*v/tot,k))
