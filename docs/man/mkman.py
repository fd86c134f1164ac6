#!/usr/bin/env python3
"""Build peerscope.yaml(5) from its template and the example configuration.

deploy/peerscope.example.yaml is generated from the key table in
collector/base/config_keys.c (and tests/unit/test_config.c keeps it in step), so the
KEYS section made here always lists every key with its default and help:
the table stays the one source.  Usage: mkman.py TEMPLATE EXAMPLE OUTPUT
"""
import re
import sys


def roff(text):
    """Plain text to roff: escape backslashes, guard leading dots/quotes."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    if text.startswith(".") or text.startswith("'"):
        text = "\\&" + text
    return text


def keys_section(example):
    out = []
    path = []
    help_lines = []
    header_done = False
    for line in example.splitlines():
        if not header_done:
            if line.strip() == "":
                header_done = bool(help_lines) or header_done
                help_lines = []
                header_done = True
            continue
        stripped = line.strip()
        if stripped.startswith("#"):
            help_lines.append(stripped.lstrip("#").strip())
            continue
        if not stripped:
            continue
        m = re.match(r"( *)([A-Za-z0-9_]+):(.*)$", line)
        if not m:
            continue  # list items of a default
        depth = len(m.group(1)) // 2
        path = path[:depth] + [m.group(2)]
        key = ".".join(path)
        value = m.group(3).strip()
        out.append(".TP")
        if value == "":
            out.append(".B %s" % roff(key))
            out.append("(section) " + roff(" ".join(help_lines)))
        else:
            out.append(".BR %s \" (default: \" \"%s\" )" %
                       (roff(key), roff(value).replace('"', '\\(dq')))
            out.append(roff(" ".join(help_lines)))
        help_lines = []
    return "\n".join(out) + "\n"


def main():
    template, example, output = sys.argv[1:4]
    with open(template) as f:
        text = f.read()
    with open(example) as f:
        keys = keys_section(f.read())
    if "@KEYS@" not in text:
        sys.exit("mkman.py: no @KEYS@ in %s" % template)
    with open(output, "w") as f:
        f.write(text.replace("@KEYS@\n", keys))


if __name__ == "__main__":
    main()
