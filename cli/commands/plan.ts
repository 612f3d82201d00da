import { parseFlags } from "../args";
import { EXIT, specOrExit, STACK_FLAGS } from "../common";
import { layerOrder } from "../../components/platform/config";

export const summary = "show every machine (name, role, backend, address) and the order the layers come up";

export async function run(argv: string[]): Promise<number> {
    const { flags } = parseFlags(argv, { ...STACK_FLAGS, json: "boolean" });
    const r = specOrExit(flags);
    if (typeof r === "number") return r;
    const { spec } = r;
    const machines = spec.machines.map((m) => ({ name: m.name, role: m.role, backend: m.backend, address: m.address }));
    const layers = layerOrder(spec);
    if (flags.json) {
        const out = { stack: spec.config.name, environment: spec.config.environment, network: spec.ipPlan, machines, layers };
        process.stdout.write(JSON.stringify(out, null, 2) + "\n");
        return EXIT.ok;
    }
    const cols = ["name", "role", "backend", "address"] as const;
    const width = cols.map((c) => Math.max(c.length, ...machines.map((m) => m[c].length)));
    const line = (vals: string[]) => vals.map((v, i) => v.padEnd(width[i])).join("  ").trimEnd();
    const out = [
        `stack ${spec.config.name} (${spec.config.environment}) — subnet ${spec.ipPlan.cidr}, gateway ${spec.ipPlan.gateway}, VIP ${spec.ipPlan.vip ?? "external"}`,
        "",
        line(cols.map((c) => c.toUpperCase())),
        ...machines.map((m) => line(cols.map((c) => m[c]))),
        "",
        "layers come up in this order:",
        ...layers.map((l, i) => `  ${i + 1}. ${l}`),
    ];
    process.stdout.write(out.join("\n") + "\n");
    return EXIT.ok;
}
