import sys, collections
# samples separated by blank lines; first line header (comm tid), then frames leaf-first
def samples(path):
    cur=[]
    for line in open(path):
        line=line.rstrip('\n')
        if not line.strip():
            if cur: yield cur
            cur=[]; continue
        cur.append(line.strip())
    if cur: yield cur
focus=sys.argv[2]
leaf=collections.Counter(); n=0; tot=0
for s in samples(sys.argv[1]):
    tot+=1
    frames=s[1:]
    if any(focus in f for f in frames):
        n+=1
        f=frames[0].split(' ',1)[1] if frames else '?'
        leaf[f[:110]]+=1
print(f"focus {focus}: {n} of {tot} samples ({100*n/tot:.2f}%)")
for k,v in leaf.most_common(int(sys.argv[3]) if len(sys.argv)>3 else 25): print(f"{100*v/tot:6.2f}% {k}")
