"""Compares the property names a built plugin uses (its -dump-names JSON) with those its npm SDK
sends: check-names.py <sdk dir> <names.json> <used tokens, space-separated> <drift JSON> <show all>.
Exit status 1 when a token groundwork uses has an SDK input the plugin does not know, or one that is
an array on one side only, beyond the drift given."""
import json, os, re, sys

sdk, names_file, used, drift, show_all = sys.argv[1], sys.argv[2], set(sys.argv[3].split()), json.loads(sys.argv[4]), sys.argv[5] == "1"
plugin = json.load(open(names_file))
pkg = json.load(open(os.path.join(sdk, "package.json")))["pulumi"]["name"]
drift = {k: set(v) for k, v in drift.items()}

# The SDK's view: token -> (inputs, all properties); nested types (module "index" at the top level
# of types/input.d.ts, else the namespace); which properties are arrays.
sdk_props, sdk_types, sdk_arrays, type_arrays = {}, {}, {}, {}
PROP = re.compile(r"^\s+(?:readonly )?(\w+)\??: (.*);$")
for root, _, files in os.walk(sdk):
    if "node_modules" in os.path.relpath(root, sdk):
        continue
    for f in files:
        path = os.path.join(root, f)
        if f.endswith(".js") and f != "index.js":
            src = open(path).read()
            m = re.search(r"__pulumiType = '([^']+)'", src)
            if m:
                keys = set(re.findall(r'resourceInputs\["(\w+)"\]', src))
                ins = set(re.findall(r'resourceInputs\["(\w+)"\] = [^;\n]*\bargs\b', src))
                sdk_props[m.group(1)] = (ins, keys)
                sdk_arrays[m.group(1)] = {p.group(1) for p in map(PROP.match, open(path[:-3] + ".d.ts"))
                                          if p and "[]" in p.group(2)}
                continue
            m = re.search(r'invoke\("([^"]+)", \{(.*?)\}', src, re.S)
            if m:
                ins = set(re.findall(r'"(\w+)":', m.group(2)))
                dts = open(path[:-3] + ".d.ts").read()
                res = re.search(r"export interface Get\w*Result \{(.*?)\n\}", dts, re.S)
                outs = set(re.findall(r"readonly (\w+)\??:", res.group(1))) if res else set()
                sdk_props[m.group(1)] = (ins, ins | outs)
                sdk_arrays[m.group(1)] = {p.group(1) for p in map(PROP.match, dts.splitlines()) if p and "[]" in p.group(2)}
        elif f == "input.d.ts":
            ns, cur = "index", None
            for line in open(path):
                m = re.match(r"export declare namespace (\w+)|export namespace (\w+)", line.strip())
                if m:
                    ns = m.group(1) or m.group(2)
                m = re.match(r"\s*(?:export )?interface (\w+) \{", line)
                if m:
                    cur, cur_name = sdk_types.setdefault((ns, m.group(1)), set()), m.group(1)
                    depth = len(line) - len(line.lstrip())
                m = re.match(r"(\s+)(\w+)\??: (.*);$", line)
                if m and cur is not None and len(m.group(1)) == depth + 4:
                    cur.add(m.group(2))
                    if "[]" in m.group(3):
                        type_arrays.setdefault((ns, cur_name), set()).add(m.group(2))

def pascal(s):
    return "".join(p[:1].upper() + p[1:] for p in s.split("_"))

bad_used, counts = 0, {"tokens": 0, "ok": 0, "mismatched": 0, "not in sdk": 0}
for tok in sorted(plugin):
    counts["tokens"] += 1
    fields = plugin[tok]
    if tok.startswith("pulumi:providers:"):
        tok = tok.split(":")[-1]  # the SDK's Provider resource type is just the package name
    if tok not in sdk_props:
        counts["not in sdk"] += 1
        print(f"NEW  {tok}: no such token in the SDK")
        continue
    p_in = {n for n, f in fields.items() if f["input"]} - {"id"}
    p_all = set(fields) - {"id"}
    s_in, s_all = sdk_props[tok]
    s_in, s_all = s_in - {"id"}, s_all - {"id"}
    problems, unexpected = [], set(s_in - p_all)
    if s_in - p_all:
        problems.append("SDK inputs the plugin does not know: " + ", ".join(sorted(s_in - p_all)))
    if (s_all - s_in) - p_all:
        problems.append("SDK outputs the plugin lacks: " + ", ".join(sorted((s_all - s_in) - p_all)))
    if p_in - s_all:
        problems.append("plugin inputs the SDK cannot send: " + ", ".join(sorted(p_in - s_all)))
    shape = sorted(n for n in (s_all & p_all) if fields[n]["list"] != (n in sdk_arrays.get(tok, set())))
    unexpected |= {n for n in shape if n in s_in}
    if shape:
        problems.append("array in one, single value in the other: " + ", ".join(
            f"{n} (SDK {'array' if n in sdk_arrays.get(tok, set()) else 'single'})" for n in shape))
    mod, res = (tok.split(":")[1].split("/")[0], tok.split(":")[2]) if ":" in tok else ("index", "Provider")
    for name, f in sorted(fields.items()):
        if not f.get("fields") or not f["input"] or res.startswith("get"):
            continue
        cands = [(mod, res + pascal(f["tf"])), (mod, res + pascal(f["tf"].rstrip("s"))),
                 (mod, res + pascal(name.rstrip("s")))]
        key = next((c for c in cands if c in sdk_types), None)
        sdk_sub, sub = sdk_types.get(key), set(f["fields"])
        if sdk_sub is None:
            problems.append(f"{name}: no SDK input type {cands[0][1]}")
            unexpected.add(f"{name}{{}}")
        elif sub != sdk_sub:
            unexpected |= {f"{name}.{n}" for n in sdk_sub - sub}
            d = []
            if sdk_sub - sub:
                d.append("SDK only: " + ", ".join(sorted(sdk_sub - sub)))
            if sub - sdk_sub:
                d.append("plugin only: " + ", ".join(sorted(sub - sdk_sub)))
            problems.append(f"{name}: " + "; ".join(d))
        if sdk_sub is not None:
            arr = type_arrays.get(key, set())
            bad = sorted(n for n in sub & sdk_sub if f["fields"][n]["list"] != (n in arr))
            if bad:
                unexpected |= {f"{name}.{n}" for n in bad}
                problems.append(f"{name}: array in one, single value in the other: " + ", ".join(bad))
    counts["mismatched" if problems else "ok"] += 1
    known = drift.get(tok, set())
    if tok in used and unexpected - known:
        bad_used += 1
        problems.append("UNEXPECTED: " + ", ".join(sorted(unexpected - known)))
    if tok in used or show_all or problems:
        print(f"{'ok ' if not problems else 'DIFF'} {tok} ({len(p_all)} properties{', used by groundwork' if tok in used else ''})")
        for p in problems:
            print(f"       {p}")
missing = sorted(set(sdk_props) - set(plugin) - {pkg})
print(f"{pkg}: plugin tokens {counts['tokens']}: same names as the SDK {counts['ok']}, differing "
      f"{counts['mismatched']}, not in the SDK {counts['not in sdk']}")
print(f"{pkg}: SDK tokens without a Terraform type in this provider version ({len(missing)}): " + " ".join(
    t.split(":")[-1] for t in missing))
print(f"{pkg}: groundwork's tokens with unexpected differences: {bad_used}")
sys.exit(1 if bad_used else 0)
