#!/usr/bin/env python3
# bench/pprof_groups.py — shares of a CPU profile by where its samples were spent, as bench/README.md
# ("Checkout overhead") reports them: go tool pprof -traces PROFILE > traces.txt; bench/pprof_groups.py traces.txt
# Whole stacks under the GC or the Stripe call count as those; every other sample counts for the library
# of its leaf-most frame outside the runtime and the standard library helpers.
import collections
import re
import sys

txt=open(sys.argv[1]).read()
blocks=txt.split('-----------+-------------------------------------------------------')
groups=[('GC (background marking, sweeping, assists)',r'gcBgMarkWorker|bgsweep|gcAssistAlloc|bgscavenge'),
('Stripe call (stripe-go, its HTTP client, the payment row)',r'NewIntentAt|persistConn'),
('PostgreSQL client (pgx: encode, send, receive, decode)',r'jackc/pgx'),
('HTTP server (net/http: read request, write response)',r'^net/http|^net\.|^bufio'),
('GraphQL (gqlgen/gqlparser: parse cache, validate, execute, marshal)',r'gqlgen|gqlparser'),
('our code (resolvers, services, middleware, transport)',r'shopgraph'),
('JSON (encoding/json)',r'encoding/json'),
('scheduler, netpoll, syscalls elsewhere',r'runtime\.(schedule|findRunnable|netpoll|mcall|park_m)|Syscall')]
c=collections.Counter(); tot=0
for b in blocks:
    lines=[l for l in b.strip().split('\n') if l.strip()]
    if not lines: continue
    m=re.match(r'\s*([\d.]+)(ms|s)\s+(.*)',lines[0])
    if not m: continue
    v=float(m.group(1))*(1 if m.group(2)=='ms' else 1000)
    frames=[m.group(3).strip()]+[l.strip() for l in lines[1:]]
    tot+=v
    s='\n'.join(frames)
    # whole-stack groups first (GC, Stripe), then leaf-most library frame
    done=False
    for name,pat in groups[:2]:
        if re.search(pat,s): c[name]+=v; done=True; break
    if done: continue
    leaf=next((f for f in frames if not re.match(r'(runtime\.|internal/|syscall|aeshash|memeqbody|indexbyte|gcWriteBarrier|context\.|sync\.|sort\.|strings\.|strconv\.|unicode|bytes\.|reflect\.|fmt\.|time\.|maps\.|slices\.|math|memmove|memclr)',f)),frames[0])
    for name,pat in groups[2:]:
        if re.search(pat,leaf): c[name]+=v; break
    else: c['other: '+leaf[:50]]+=v
for k,v in c.most_common(14): print('%5.1f%% %s'%(100*v/tot,k))
