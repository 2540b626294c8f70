"""Checks of the source tree's shape, for tests/integration/layers.sh.

    python3 layers.py TOP CHECK

CHECK is direction, cycles, sql, one-home or sizes. Prints what is wrong
and exits 1, or exits 0.
"""
import os
import re
import sys

LAYERS = ("common", "state", "planner", "migrator", "cli")
# What each layer may include besides itself (DESIGN.md section 2).
ALLOWED = {
    "common": set(),
    "state": {"common"},
    "planner": {"common"},
    "migrator": {"state", "common"},
    "cli": {"migrator", "planner", "state", "common"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
SYSTEM = re.compile(r'^\s*#\s*include\s+<([^>]+)>', re.M)
MAX_LINES = 950


def sources(top, dirs):
    for d in dirs:
        for root, _, files in os.walk(os.path.join(top, d)):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    yield os.path.relpath(os.path.join(root, f), top)


def read(top, path):
    with open(os.path.join(top, path), encoding="utf-8") as f:
        return f.read()


def direction(top):
    bad = []
    for path in sources(top, LAYERS):
        layer = path.split("/")[0]
        for inc in INCLUDE.findall(read(top, path)):
            if "/" not in inc:
                bad.append(f"{path}: includes \"{inc}\" without its layer")
                continue
            to = inc.split("/")[0]
            if to != layer and to not in ALLOWED[layer]:
                bad.append(f"{path}: {layer}/ must not include {inc}")
    return bad


def module(path):
    """cli/report_json.c -> cli/report_json; headers and sources pair."""
    return os.path.splitext(path)[0]


def cycles(top):
    graph = {}
    for path in sources(top, LAYERS):
        m = module(path)
        for inc in INCLUDE.findall(read(top, path)):
            to = module(inc)
            if to != m and not to.endswith("_int"):
                graph.setdefault(m, set()).add(to)
    # A private header (x_int.h) belongs to the files that share it; it
    # is not a module of its own, so it makes no edge.
    bad, state, stack = [], {}, []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for to in sorted(graph.get(m, ())):
            if state.get(to) == 1:
                bad.append(" -> ".join(stack[stack.index(to):] + [to]))
            elif to not in state:
                visit(to)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    return bad


def sql(top):
    bad = []
    for path in sources(top, LAYERS):
        if path.startswith("state/"):
            continue
        for inc in SYSTEM.findall(read(top, path)):
            if inc.startswith("sqlite3") or inc.startswith("libpq"):
                bad.append(f"{path}: includes <{inc}>; only state/ "
                           "speaks SQL")
    return bad


def one_home(top):
    bad = []
    flags = re.compile(r"#\s*define\s+\w+\s*\(?\s*O_RDONLY\s*\|\s*"
                       r"O_DIRECTORY")
    walk = re.compile(r"^\w[\w ]*\bopen_below\s*\(", re.M)
    for path in sources(top, LAYERS + ("tests", "bench")):
        text = read(top, path)
        if flags.search(text) and path != "migrator/tree.h":
            bad.append(f"{path}: defines its own directory open flags; "
                       "use TREE_DIR_FLAGS from migrator/tree.h")
        for m in walk.finditer(text):
            line = text[m.start():text.index("\n", m.start())]
            if path != "migrator/tree.c" and not line.startswith(
                    "tree_open_below"):
                bad.append(f"{path}: a path walk of its own ({line}); "
                           "use tree_open_below")
    return bad


def sizes(top):
    bad = []
    for path in sources(top, LAYERS + ("tests", "bench")):
        n = read(top, path).count("\n")
        if n > MAX_LINES:
            bad.append(f"{path}: {n} lines (split it by subsystem)")
    return bad


def main():
    top, check = sys.argv[1], sys.argv[2]
    bad = {"direction": direction, "cycles": cycles, "sql": sql,
           "one-home": one_home, "sizes": sizes}[check](top)
    for line in bad:
        print(line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
