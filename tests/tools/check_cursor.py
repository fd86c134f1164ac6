#!/usr/bin/env python3
"""check_cursor.py - no code outside cursor.h touches a cursor's fields.

A `struct cur` (include/peerscope/cursor.h) is read only through the
cursor functions, which check the remaining length first; code that reads
`.p` or writes `.left` itself steps around that check.  This finds, in
every C file of collector/, decoders/, include/ and tests/ but cursor.h:

  - a member access `.p`, `->p`, `.left` or `->left` on a name declared
    as a `struct cur` (a variable or parameter of the same file, or a
    struct member declared anywhere: `m->u.rm.bgp.p`);
  - a `struct cur` built field by field (`(struct cur){ .p = ... }`).

Names are matched, not types: a cursor must be named by a declaration
this script can see (`struct cur a, *b = ...;`, a parameter, a member),
which is how every cursor in the tree is declared.

Prints one line per problem and exits 1; prints a summary and exits 0 when
there is none.  --self-test checks that each kind of break is found and a
clean file passes.  Standard library only.
"""
import argparse
import os
import re
import sys
import tempfile

BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.S)
LINE_COMMENT = re.compile(r"//[^\n]*")
STRING = re.compile(r'"(?:\\.|[^"\\\n])*"')
# `struct cur` then its declarators up to the end of the declaration
# (`;`), the parameter (`,` or `)`), or an initializer's `=`.
DECL = re.compile(r"\bstruct\s+cur\b(?!_)([^;{}()]*?)(?=[;)]|\{)")
IDENT = re.compile(r"[A-Za-z_]\w*")
FIELD_LITERAL = re.compile(r"\(\s*(?:const\s+)?struct\s+cur\s*\)\s*\{[^}]*\.(?:p|left)\s*=")
SKIP = ("include/peerscope/cursor.h",)
TOPS = ("collector", "decoders", "include", "tests")


def strip(text):
    """Comments and strings out; newlines kept so line numbers hold."""
    def blank(m):
        return re.sub(r"[^\n]", " ", m.group(0))
    text = BLOCK_COMMENT.sub(blank, text)
    text = LINE_COMMENT.sub(blank, text)
    return STRING.sub(blank, text)


def declared_names(text):
    """Names declared `struct cur` in text: each declarator's name."""
    names = set()
    for m in DECL.finditer(text):
        before = re.sub(r"(\bconst\b|\s)+$", "",
                        text[max(0, m.start() - 80):m.start()])
        parameter = before.endswith(("(", ","))
        depth, part, parts = 0, "", []
        for ch in m.group(1):
            if ch in "([":
                depth += 1
            elif ch in ")]":
                depth -= 1
            if ch == "," and depth == 0:
                parts.append(part)
                part = ""
            else:
                part += ch
        parts.append(part)
        if parameter:  # (struct cur *c, struct other *o): c only
            parts = parts[:1]
        for p in parts:
            p = p.split("=")[0].replace("*", " ").replace("const", " ")
            ids = IDENT.findall(p)
            if ids:
                names.add(ids[0])
    return names


def c_files(root):
    for top in TOPS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            dirnames.sort()
            for name in sorted(filenames):
                if name.endswith((".c", ".h")):
                    path = os.path.join(dirpath, name)
                    rel = os.path.relpath(path, root).replace(os.sep, "/")
                    if rel not in SKIP:
                        yield rel, path


def check(root):
    files = []
    for rel, path in c_files(root):
        with open(path, encoding="utf-8", errors="replace") as f:
            files.append((rel, strip(f.read())))
    # Members (`struct cur bgp;` inside a struct) are reached from any
    # file; a declaration at column one or inside a struct body counts.
    members = set()
    for rel, text in files:
        if rel.endswith(".h"):
            members |= declared_names(text)
    problems = []
    for rel, text in files:
        names = members | declared_names(text)
        if not names:
            continue
        access = re.compile(r"\b(%s)\s*(?:\.|->)\s*(p|left)\b" %
                            "|".join(sorted(map(re.escape, names))))
        for m in access.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            problems.append("%s:%d: cursor field `%s` of `%s` touched "
                            "outside cursor.h" % (rel, line, m.group(2),
                                                  m.group(1)))
        for m in FIELD_LITERAL.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            problems.append("%s:%d: struct cur built field by field "
                            "outside cursor.h" % (rel, line))
    return problems, len(files)


def write(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def self_test():
    cases = {
        "local read": "void f(void) { struct cur c; g(c.p[0]); }\n",
        "param write": "void f(struct cur *c) { c->left = 0; }\n",
        "second declarator": "void f(void) { struct cur a, b; g(b.left); }\n",
        "const param": "int f(const struct cur *in) { return in->p[1]; }\n",
        "member": "void f(struct msg *m) { g(m->u.body.p); }\n",
        "literal": "void f(void) { h((struct cur){ .p = 0, .left = 1 }); }\n",
    }
    header = "struct msg { struct cur body; int n; };\n"
    clean = ("void f(struct cur *c, struct other *o) {\n"
             "\tstruct cur mark = *c; /* c.p is fine in a comment */\n"
             "\tg(cur_data(c), cur_left(&mark), o->p, o->left, \"x.p\");\n"
             "}\n")
    failed = 0
    for what, text in cases.items():
        with tempfile.TemporaryDirectory() as root:
            write(root, "collector/a/msg.h", header)
            write(root, "decoders/x.c", text)
            problems, _ = check(root)
            if not problems:
                print("self-test: %s not found" % what)
                failed += 1
    with tempfile.TemporaryDirectory() as root:
        write(root, "collector/a/msg.h", header)
        write(root, "decoders/x.c", clean)
        write(root, "include/peerscope/cursor.h",
              "struct cur { const unsigned char *p; unsigned long left; };\n"
              "static inline void cur_abandon(struct cur *c) { c->left = 0; }\n")
        problems, _ = check(root)
        for p in problems:
            print("self-test: clean tree flagged: %s" % p)
            failed += 1
    if failed:
        return 1
    print("check_cursor self-test: %d breaks found, clean tree passes" %
          len(cases))
    return 0


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", default=os.path.join(here, "..", ".."),
                    help="the project's top folder")
    ap.add_argument("--self-test", action="store_true",
                    help="check that the check finds breaks")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    problems, nfiles = check(args.root)
    for p in problems:
        print(p)
    if problems:
        return 1
    print("check_cursor: %d files, no cursor field touched outside "
          "cursor.h" % nfiles)
    return 0


if __name__ == "__main__":
    sys.exit(main())
