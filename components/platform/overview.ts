import { formatRange, parseRange, rangeSize } from "../kit/ipv4";
import { MachineSpec, PlatformSpec } from "./config";
import { nodeRegistry } from "./wiring";

/** A named address range as a change board reads it. */
export interface RangeView {
    name: string;
    range: string;
    addresses: number;
}

export interface MachineView {
    name: string;
    role: string;
    backend: string;
    address: string;
    /** `create`: groundwork makes the VM; `existing`: a bare-metal server that is only bootstrapped over SSH. */
    action: "create" | "existing";
    labels: string[];
    taints: string[];
}

/** What `groundwork plan` shows: every fact a change board approves, from the validated spec alone. */
export interface PlanOverview {
    stack: string;
    environment: string;
    upTo: "machines" | "all";
    network: { cidr: string; gateway: string; vip?: string; pools: RangeView[]; reserved: RangeView[]; loadBalancerPool?: RangeView };
    machines: MachineView[];
    registry?: { mode: string; endpoint?: string; airGapped: boolean; built: boolean };
    etcdSnapshots?: { schedule: string; retention: number; target: string };
    layers: string[];
}

function rangeView(name: string, text: string): RangeView {
    const r = parseRange(text);
    // The spec is validated: every range parses.
    if (typeof r === "string") throw new Error(`${name}: ${r}`);
    return { name, range: formatRange(r), addresses: rangeSize(r) };
}

function machineView(m: MachineSpec): MachineView {
    const labels = Object.entries(m.labels).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`);
    const taints = m.taints.map((t) => `${t.key}${t.value !== undefined ? `=${t.value}` : ""}:${t.effect}`);
    return { name: m.name, role: m.role, backend: m.backend, address: m.address, action: m.backend === "baremetal" ? "existing" : "create", labels, taints };
}

/** The order in which the layers come up, as far as `upTo` builds them. */
export function layerOrder(spec: PlatformSpec): string[] {
    const c = spec.config;
    const backends = [...new Set(spec.machines.map((m) => m.backend))].sort().join(", ");
    const existing = spec.machines.filter((m) => m.backend === "baremetal").length;
    const order = [
        `network: IP plan ${spec.ipPlan.cidr}, VIP ${spec.ipPlan.vip ?? c.cluster.controlPlaneEndpoint.address + " (external)"}`,
        `machines: ${spec.machines.length} on ${backends} (${spec.machines.length - existing} created, ${existing} existing)`,
        `engine: ${c.engine.kind} from ${c.engine.packageSource.kind === "mirror" ? c.engine.packageSource.url : "the distribution"}`,
    ];
    if (c.registry.mode === "standalone") order.push("registry: standalone registry machine");
    if (c.upTo === "machines") return order;
    order.push(`cluster: Kubernetes ${c.cluster.kubernetesVersion}, first control plane, then other control planes ‖ workers`);
    order.push(`add-ons: ${c.cluster.cni.kind}${c.cluster.addons.etcdSnapshots.enabled ? ", etcd snapshots" : ""}`);
    if (c.registry.mode === "harbor") order.push("registry: Harbor on the cluster");
    const workloads = Object.entries(c.apps.workloads);
    if (workloads.length > 0) order.push(`workloads: ${workloads.map(([n, w]) => `${n} (${w.role})`).join(", ")}; profile ${c.apps.profile}`);
    return order;
}

export function planOverview(spec: PlatformSpec): PlanOverview {
    const c = spec.config;
    const full = c.upTo === "all";
    const start = (v: RangeView) => (parseRange(v.range) as { first: number }).first;
    const byStart = (a: RangeView, b: RangeView) => start(a) - start(b);
    const endpoint = nodeRegistry(spec, "");
    const snap = c.cluster.addons.etcdSnapshots;
    const target = snap.target.kind === "hostPath" ? `hostPath ${snap.target.path}` : `s3 ${snap.target.endpoint}/${snap.target.bucket}`;
    return {
        stack: c.name,
        environment: c.environment,
        upTo: c.upTo,
        network: {
            cidr: spec.ipPlan.cidr,
            gateway: spec.ipPlan.gateway,
            vip: spec.ipPlan.vip,
            pools: Object.entries(c.network.pools).map(([n, r]) => rangeView(n, r)).sort(byStart),
            reserved: (c.network.reserved ?? []).map((r) => rangeView("reserved", r)).sort(byStart),
            ...(c.network.loadBalancerPool ? { loadBalancerPool: rangeView("loadBalancerPool", c.network.loadBalancerPool) } : {}),
        },
        machines: spec.machines.map(machineView),
        ...(c.registry.mode !== "none" ? { registry: { mode: c.registry.mode, endpoint: endpoint?.authority, airGapped: c.registry.airGapped, built: endpoint !== undefined } } : {}),
        ...(full && snap.enabled ? { etcdSnapshots: { schedule: snap.schedule, retention: snap.retention, target } } : {}),
        layers: layerOrder(spec),
    };
}
