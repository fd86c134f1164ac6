#!/usr/bin/env python3
"""check_layers.py - every include points down (issue 10).

Reads collector/LAYERS (the folders of the daemon, bottom first) and the
`#include "..."` lines of every C file, and fails when

  - a file of collector/ includes a header of a folder listed after its
    own (an upward include), or names a header without its folder
    ("worker.h" for "rx/worker.h"), or by a relative path, or includes a
    .c file;
  - collector/ has a file outside the listed folders (only main.c, the
    entry point above every layer, sits at its root);
  - the include graph between modules has a cycle.  A module is one
    folder/stem: x.c and x.h together, so "a.c includes b.h and b.c
    includes a.h" is a cycle even though no header includes itself;
  - decoders/ includes anything but its own headers and include/peerscope/,
    or include/peerscope/ includes anything but include/peerscope/.

Prints one line per problem and exits 1; prints a summary and exits 0 when
there is none.  --self-test builds small trees that break each rule in a
temporary folder and checks that each break is found (so the check can
fail), then checks one tree that breaks none.

Standard library only.
"""
import argparse
import os
import re
import shutil
import sys
import tempfile

INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*"([^"]+)"', re.M)
BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.S)


def read_layers(path):
    """The folder names of LAYERS, bottom first."""
    layers = []
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                layers.append(line.split()[0])
    return layers


def includes(path):
    """The quoted includes of a C file, comments removed."""
    with open(path, errors="replace") as f:
        text = BLOCK_COMMENT.sub("", f.read())
    text = re.sub(r"//[^\n]*", "", text)
    return INCLUDE.findall(text)


def c_files(top):
    for dp, dn, fn in os.walk(top):
        dn.sort()
        for f in sorted(fn):
            if f.endswith((".c", ".h")):
                yield os.path.join(dp, f)


def module_of(rel):
    """'rx/worker.c' -> 'rx/worker'."""
    return os.path.splitext(rel)[0]


def find_cycles(graph):
    """Strongly connected components with more than one module (Tarjan),
    each as a sorted list."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(100000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def cycle_path(graph, comp):
    """One cycle through the component, for the message."""
    members = set(comp)
    start = comp[0]
    path, seen = [start], {start}
    v = start
    while True:
        nxt = sorted(w for w in graph[v] if w in members)
        if start in nxt and len(path) > 1:
            return path + [start]
        fresh = [w for w in nxt if w not in seen]
        if not fresh:  # any edge back closes some cycle
            w = nxt[0]
            return path[path.index(w):] + [w]
        v = fresh[0]
        path.append(v)
        seen.add(v)


def check(root):
    """Problems found in the tree at root (a list of lines), and a summary."""
    collector = os.path.join(root, "collector")
    public = os.path.join(root, "include")
    decoders = os.path.join(root, "decoders")
    layers = read_layers(os.path.join(collector, "LAYERS"))
    rank = {name: i for i, name in enumerate(layers)}
    rank[""] = len(layers)  # collector/main.c: above every layer
    problems = []
    graph = {}

    for path in c_files(collector):
        rel = os.path.relpath(path, collector)
        folder = os.path.dirname(rel)
        if folder == "":
            if rel != "main.c":
                problems.append("collector/%s: only main.c sits at the "
                                "root of collector/" % rel)
                continue
        elif folder not in rank:
            problems.append("collector/%s: folder %s is not in "
                            "collector/LAYERS" % (rel, folder))
            continue
        mod = module_of(rel)
        graph.setdefault(mod, set())
        for inc in includes(path):
            if inc.startswith("peerscope/"):
                if not os.path.isfile(os.path.join(public, inc)):
                    problems.append("collector/%s: includes %s, not in "
                                    "include/" % (rel, inc))
                continue
            target_folder = os.path.dirname(inc)
            if inc.endswith(".c"):
                problems.append("collector/%s: includes a .c file (%s)" %
                                (rel, inc))
                continue
            if target_folder not in rank or target_folder == "" or \
                    not os.path.isfile(os.path.join(collector, inc)):
                problems.append("collector/%s: includes \"%s\": name a "
                                "header by its folder (\"rx/worker.h\")" %
                                (rel, inc))
                continue
            if rank[target_folder] > rank[folder]:
                problems.append("collector/%s: includes %s, from layer %s "
                                "above %s (collector/LAYERS)" %
                                (rel, inc, target_folder, folder or "main"))
            target = module_of(inc)
            if target != mod:
                graph[mod].add(target)

    for comp in find_cycles(graph):
        problems.append("include cycle between %d modules: %s (e.g. %s)" %
                        (len(comp), " ".join(comp),
                         " -> ".join(cycle_path(graph, comp))))

    for path in c_files(decoders):
        rel = os.path.relpath(path, root)
        for inc in includes(path):
            ok = (inc.startswith("peerscope/") and
                  os.path.isfile(os.path.join(public, inc))) or \
                 ("/" not in inc and
                  os.path.isfile(os.path.join(decoders, inc)))
            if not ok:
                problems.append("%s: includes %s: decoders include only "
                                "their own headers and include/peerscope/"
                                % (rel, inc))
    for dp, dn, fn in os.walk(public):
        for f in sorted(fn):
            path = os.path.join(dp, f)
            rel = os.path.relpath(path, root)
            for inc in includes(path):
                if not (inc.startswith("peerscope/") and
                        os.path.isfile(os.path.join(public, inc))):
                    problems.append("%s: includes %s: public headers "
                                    "include only include/peerscope/" %
                                    (rel, inc))

    edges = sum(len(v) for v in graph.values())
    summary = ("%d layers, %d modules, %d include edges between modules, "
               "no cycle, no upward include" % (len(layers), len(graph),
                                                 edges))
    return problems, summary


# ---- self-test: trees that break each rule ------------------------------

def write(root, rel, text=""):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def base_tree(root):
    """A tree that breaks no rule: two layers, decoders, public headers."""
    write(root, "collector/LAYERS", "# bottom first\nlow  any\nhigh main\n")
    write(root, "collector/low/a.h", '#include "peerscope/p.h"\n')
    write(root, "collector/low/a.c", '#include "low/a.h"\n')
    write(root, "collector/low/b.h", '#include "low/a.h"\n')
    write(root, "collector/low/b.c", '#include "low/b.h"\n')
    write(root, "collector/high/c.h", '#include "low/b.h"\n')
    write(root, "collector/high/c.c",
          '/* #include "high/nowhere.h" in a comment is no include */\n'
          '#include "high/c.h"\n#include "low/a.h"\n')
    write(root, "collector/main.c", '#include "high/c.h"\n')
    write(root, "include/peerscope/p.h", "")
    write(root, "decoders/d.h", '#include "peerscope/p.h"\n')
    write(root, "decoders/d.c", '#include "d.h"\n#include "peerscope/p.h"\n')


BREAKS = [
    ("upward include", "collector/low/a.c",
     '#include "low/a.h"\n#include "high/c.h"\n', "from layer high above"),
    ("cycle through a .c file", "collector/low/a.c",
     '#include "low/a.h"\n#include "low/b.h"\n', "include cycle"),
    ("header without its folder", "collector/high/c.c",
     '#include "c.h"\n', "name a header by its folder"),
    ("relative path", "collector/high/c.c",
     '#include "../low/a.h"\n', "name a header by its folder"),
    ("a .c file included", "collector/high/c.c",
     '#include "low/a.c"\n', "includes a .c file"),
    ("folder not in LAYERS", "collector/extra/e.c", "", "not in"),
    ("file at the root", "collector/util.c", "", "only main.c"),
    ("decoder includes collector", "decoders/d.c",
     '#include "low/a.h"\n', "decoders include only"),
    ("public header includes collector", "include/peerscope/q.h",
     '#include "low/a.h"\n', "public headers include only"),
]


def self_test():
    failures = 0
    tmp = tempfile.mkdtemp(prefix="check-layers-")
    try:
        clean = os.path.join(tmp, "clean")
        base_tree(clean)
        problems, _ = check(clean)
        if problems:
            failures += 1
            print("self-test: a clean tree was refused: %s" % problems)
        for i, (name, rel, text, expect) in enumerate(BREAKS):
            t = os.path.join(tmp, "break%d" % i)
            base_tree(t)
            write(t, rel, text)
            problems, _ = check(t)
            if not any(expect in p for p in problems):
                failures += 1
                print("self-test: %s not found (got %s)" % (name, problems))
            else:
                print("self-test: %s: found" % name)
    finally:
        shutil.rmtree(tmp)
    print("self-test: %s" % ("FAILED" if failures else "ok"))
    return 1 if failures else 0


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", default=os.path.join(here, "..", ".."),
                    help="the source tree (default: this one)")
    ap.add_argument("--self-test", action="store_true",
                    help="check that the check finds each kind of break")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    problems, summary = check(os.path.normpath(args.root))
    for p in problems:
        print(p)
    if problems:
        print("%d problems (collector/LAYERS says which way includes go)" %
              len(problems))
        return 1
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
