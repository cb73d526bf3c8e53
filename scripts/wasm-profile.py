#!/usr/bin/env python3
"""What the browser bundle is made of: the release wasm's code and data by crate.

Usage: scripts/wasm-profile.py <frontend.wasm before wasm-opt, with its name section>

Runs `twiggy top` over the wasm cargo built (wasm-opt later shrinks every part, roughly in
proportion, and drops the names this needs) and sums each function's size under the crate its
name starts with.
"""
import collections
import csv
import io
import re
import subprocess
import sys

CRATE = re.compile(r"([a-z_][a-z0-9_]*)(?:\[[0-9a-f]+\])?::")


def main() -> None:
    wasm = sys.argv[1]
    table = subprocess.run(
        ["twiggy", "top", "-n", "1000000", "-f", "csv", wasm],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    sizes: collections.Counter[str] = collections.Counter()
    for row in csv.DictReader(io.StringIO(table)):
        name, size = row["Name"], int(row["ShallowSize"])
        if "subsection" in name or "custom section" in name or "__wbindgen_describe" in name:
            continue  # names and wasm-bindgen's descriptors: removed before the wasm ships
        crates = CRATE.findall(name)
        if crates:
            sizes[crates[0]] += size
        elif name.startswith("data segment"):
            sizes["(static data)"] += size
        else:
            sizes["(unnamed)"] += size
    total = sum(sizes.values())
    print(f"Release wasm before wasm-opt, by crate ({total:,} bytes of code and data):")
    print("| crate | bytes | share |")
    print("|---|---|---|")
    for crate, size in sizes.most_common(15):
        print(f"| {crate} | {size:,} | {100 * size / total:.1f}% |")


if __name__ == "__main__":
    main()
