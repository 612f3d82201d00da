import { parseFlags } from "../args";
import { EXIT, specOrExit, STACK_FLAGS } from "../common";
import { PlanOverview, planOverview, RangeView } from "../../components/platform/overview";

export const summary = "show the IP plan, every machine (created or existing, labels, taints), the registry and the order the layers come up";

/** Columns padded to their widest cell; trailing blanks trimmed. */
function table(header: string[], rows: string[][]): string[] {
    const width = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (vals: string[]) => vals.map((v, i) => v.padEnd(width[i])).join("  ").trimEnd();
    return [line(header), ...rows.map(line)];
}

const range = (r: RangeView) => `${r.range} (${r.addresses} address${r.addresses === 1 ? "" : "es"})`;

/** The plan as a change board reads it: pure, deterministic text. */
export function renderPlanText(o: PlanOverview): string {
    const n = o.network;
    const net = table(
        ["RANGE", "ADDRESSES"],
        [
            ...n.pools.map((p) => [`pool ${p.name}`, range(p)]),
            ...n.reserved.map((r) => ["reserved", range(r)]),
            ...(n.loadBalancerPool ? [["load balancers (MetalLB)", range(n.loadBalancerPool)]] : []),
        ],
    );
    const machines = table(
        ["NAME", "ROLE", "BACKEND", "ADDRESS", "ACTION", "LABELS", "TAINTS"],
        o.machines.map((m) => [m.name, m.role, m.backend, m.address, m.action, m.labels.join(",") || "-", m.taints.join(",") || "-"]),
    );
    const out = [`stack ${o.stack} (${o.environment}) — subnet ${n.cidr}, gateway ${n.gateway}, VIP ${n.vip ?? "external"}`, "", ...net, "", ...machines, ""];
    const r = o.registry;
    if (r) {
        const where = r.built ? `${r.mode} at ${r.endpoint}` : `${r.mode}, not built (upTo: ${o.upTo})`;
        out.push(`registry: ${where}${r.airGapped ? ", air-gapped: nodes pull only through it" : ""}`);
    } else {
        out.push("registry: none");
    }
    if (o.etcdSnapshots) out.push(`etcd snapshots: schedule "${o.etcdSnapshots.schedule}", keep ${o.etcdSnapshots.retention}, to ${o.etcdSnapshots.target}`);
    out.push("", "layers come up in this order:", ...o.layers.map((l, i) => `  ${i + 1}. ${l}`));
    if (o.upTo === "machines") out.push("  stops here (upTo: machines): no cluster, add-ons or Harbor");
    return out.join("\n") + "\n";
}

export async function run(argv: string[]): Promise<number> {
    const { flags } = parseFlags(argv, { ...STACK_FLAGS, json: "boolean" });
    const r = specOrExit(flags);
    if (typeof r === "number") return r;
    const overview = planOverview(r.spec);
    process.stdout.write(flags.json ? JSON.stringify(overview, null, 2) + "\n" : renderPlanText(overview));
    return EXIT.ok;
}
