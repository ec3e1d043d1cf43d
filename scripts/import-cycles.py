#!/usr/bin/env python3
"""Lists import circles between the modules of each crate: an edge A -> B for every `crate::B` (or `super::B`
resolved) path that A names, a module being a source file; a circle is a strongly connected set of two or more
modules. Exits 1 if there is any. Usage: scripts/import-cycles.py [crates/...]"""
import os, re, sys

def modules(src):
    """Module path ('a::b') of every .rs file under src."""
    found = {}
    for root, _, files in os.walk(src):
        for name in files:
            if not name.endswith(".rs"):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, src)[:-3].split(os.sep)
            if rel[-1] in ("mod", "lib", "main"):
                rel = rel[:-1]
            if rel and rel[0] == "bin":
                continue  # binaries are crates of their own
            found["::".join(rel)] = path
    return found

def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return "\n".join(line.split("//")[0] for line in text.splitlines())

def targets(module, text, known):
    """The modules `module` refers to through crate:: or super:: paths (also inside use braces)."""
    out = set()
    text = strip_comments(text)
    # Expand `use crate::{a, b::c}` style groups one level.
    for m in re.finditer(r"\b(crate|super)((?:::\w+)*)::\{([^}]*)\}", text):
        base = m.group(1) + m.group(2)
        for item in m.group(3).split(","):
            item = item.strip().split(" as ")[0]
            if item and item != "self":
                out |= resolve(module, base + "::" + item, known)
            elif item == "self":
                out |= resolve(module, base, known)
    for m in re.finditer(r"\b(crate|super)((?:::\w+)+)", text):
        out |= resolve(module, m.group(0), known)
    out.discard(module)
    # A module's own submodules and its parents are not circles of design: drop edges to ancestors/descendants.
    return {t for t in out if not (t.startswith(module + "::") or module.startswith(t + "::") or t == "")}

def resolve(module, path, known):
    """The module a `crate::…` or `super::…` path lands in: the longest known module prefix."""
    parts = path.split("::")
    if parts[0] == "crate":
        base, parts = [], parts[1:]
    else:
        base = module.split("::") if module else []
        while parts and parts[0] == "super":
            parts, base = parts[1:], base[:-1]
    for n in range(len(parts), -1, -1):
        candidate = "::".join(base + parts[:n])
        if candidate in known:
            return {candidate}
    return set()

def sccs(graph):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]
    def visit(v):
        index[v] = low[v] = counter[0]; counter[0] += 1; stack.append(v); on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v: break
            if len(comp) > 1: out.append(sorted(comp))
    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index: visit(v)
    return out

def main():
    crates = sys.argv[1:] or sorted(os.path.join("crates", c) for c in os.listdir("crates"))
    bad = 0
    for crate in crates:
        src = os.path.join(crate, "src")
        if not os.path.isdir(src):
            continue
        known = modules(src)
        graph = {m: targets(m, open(p).read(), known) for m, p in known.items()}
        edges = sum(len(t) for t in graph.values())
        circles = sccs(graph)
        print(f"{crate}: {len(known)} modules, {edges} edges, {len(circles)} circles")
        for circle in circles:
            bad += 1
            print("  circle:", " <-> ".join(m or "(root)" for m in circle))
            for m in circle:
                print(f"    {m or '(root)'} -> {', '.join(sorted(t or '(root)' for t in graph[m] if t in circle))}")
    sys.exit(1 if bad else 0)

main()
