#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Which kmod/ object files call which, from their symbol tables, and the
cycles among them.  Usage: kmod-deps.py BUILD_DIR (a build of the module,
e.g. build/debug); prints each cycle and exits 1 if there is one.
Tracepoint symbols count as calls into the file that creates them."""
import os
import subprocess
import sys


def symbols(obj):
    out = subprocess.run(["nm", obj], capture_output=True, text=True,
                         check=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        f = line.split()
        if len(f) == 2 and f[0] == "U":
            undefined.add(f[1])
        elif len(f) == 3 and f[1] in "TDBRVW":
            defined.add(f[2])
    return defined, undefined


def main():
    top = os.path.join(sys.argv[1], "kmod")
    objs = []
    for d, _, files in os.walk(top):
        objs += [os.path.join(d, f) for f in files
                 if f.endswith(".o") and not f.endswith(".mod.o")]
    owner, needs = {}, {}
    for o in objs:
        name = os.path.relpath(o, top)[:-2] + ".c"
        defined, undefined = symbols(o)
        for s in defined:
            owner[s] = name
        needs[name] = undefined
    edges = {n: sorted({owner[s] for s in u if s in owner and owner[s] != n})
             for n, u in needs.items()}
    # Tarjan's strongly connected components.
    index, low, stack, on, sccs = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on.discard(w)
                scc.append(w)
                if w == v:
                    break
            if len(scc) > 1:
                sccs.append(sorted(scc))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    for n in sorted(edges):
        print("%s -> %s" % (n, " ".join(edges[n]) or "-"))
    for scc in sccs:
        print("cycle: " + " ".join(scc))
    return 1 if sccs else 0


if __name__ == "__main__":
    sys.exit(main())
