#!/usr/bin/env python3
"""Generate src/graph_types.json, the Graph v1.0 type data idgit embeds.

idgit needs to know, for each object kind, every property Graph can return
(to build full `$select` lists), which properties are read-only, and which
types are polymorphic. The source of truth is the merged Graph type subset
built from Microsoft's CSDL and SDK doc comments. This script keeps only the
fields idgit uses, so the repository builds and tests without that source.

Usage: python3 tools/gen_graph_types.py PATH/TO/graph-v1.0-subset.json > src/graph_types.json
"""
import json
import sys


def main() -> None:
    source = json.load(open(sys.argv[1], encoding="utf-8"))
    out = {}
    for name in sorted(source):
        t = source[name]
        entry = {"kind": t["kind"]}
        if t.get("base"):
            entry["base"] = t["base"]
        if t.get("abstract"):
            entry["abstract"] = True
        if t.get("derived"):
            entry["derived"] = sorted(t["derived"])
        if t["kind"] == "EnumType":
            entry["members"] = t.get("members", [])
        else:
            props = []
            for p in t.get("properties", []):
                prop = {"name": p["name"], "type": p["type"]}
                if not p.get("nullable", True):
                    prop["nullable"] = False
                if p.get("read_only"):
                    prop["readOnly"] = True
                props.append(prop)
            entry["properties"] = props
            nav = [n["name"] for n in t.get("navigation", [])]
            if nav:
                entry["navigation"] = nav
        out[name] = entry
    json.dump(out, sys.stdout, indent=1, sort_keys=True, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
