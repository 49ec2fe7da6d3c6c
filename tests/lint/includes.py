#!/usr/bin/env python3
"""The module graph of shared/DESIGN.md, checked over the #include lines: no module includes a
folder above it (or a sibling of its own layer), and no two files include each other's units
round a cycle. A unit is foo.c with foo.h; its edges are what either includes."""
import os, re, sys

# Bottom up. A module may include its own folder and folders of a lower rank only.
RANK = {'base': 0, 'security': 1, 'cgroups': 1, 'netns': 1, 'rootfs': 1, 'vm': 1,
        'spec': 2, 'launch': 3, 'runtime': 4, 'cli': 5}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)

def module(path):
    return path.split('/', 1)[0]

def main(top):
    units, problems = {}, []
    for mod in RANK:
        for d, _, files in os.walk(os.path.join(top, mod)):
            for f in sorted(files):
                if not f.endswith(('.c', '.h', '.S')):
                    continue
                rel = os.path.relpath(os.path.join(d, f), top)
                unit = os.path.splitext(rel)[0]
                units.setdefault(unit, set())
                for target in INCLUDE.findall(open(os.path.join(top, rel), errors='replace').read()):
                    dest = os.path.normpath(os.path.join(os.path.dirname(rel), target))
                    if not os.path.exists(os.path.join(top, dest)):
                        continue  # generated (build/) headers
                    there = module(dest)
                    if there not in RANK:
                        problems.append(f'{rel}: includes {dest}, outside the modules')
                    elif there != mod and RANK[there] >= RANK[mod]:
                        problems.append(f'{rel}: includes {dest} ({there}/ is not below {mod}/)')
                    other = os.path.splitext(dest)[0]
                    if other != unit:
                        units[unit].add(other)
    # Cycles between units, by depth-first search (iterative colouring).
    state, stack_path = {}, []
    def visit(u):
        state[u] = 1
        stack_path.append(u)
        for v in sorted(units.get(u, ())):
            if state.get(v) == 1:
                cyc = stack_path[stack_path.index(v):] + [v]
                problems.append('include cycle: ' + ' -> '.join(cyc))
            elif v in units and not state.get(v):
                visit(v)
        stack_path.pop()
        state[u] = 2
    sys.setrecursionlimit(10000)
    for u in sorted(units):
        if not state.get(u):
            visit(u)
    for p in problems:
        print(p)
    return 1 if problems else 0

if __name__ == '__main__':
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else '.'))
