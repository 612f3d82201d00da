import { Problem } from "../kit/problems";
import { Cidr, contains, formatIp, formatRange, Ipv4Range, overlaps, parseCidr, parseIp, parseRange, rangeSize } from "../kit/ipv4";

export { Problem };

/** The network a platform lives in. All addresses are IPv4. */
export interface IpPlanSpec {
    /** The node subnet, e.g. `10.20.0.0/24`. */
    cidr: string;
    /** The subnet's gateway; never handed to a machine. */
    gateway: string;
    /** Addresses groundwork must never hand out (DHCP ranges, appliances). The VIP may sit in one. Defaults to none. */
    reserved?: string[];
    /** The control-plane virtual IP held by kube-vip. Optional only with an external load balancer. */
    vip?: string;
    /** Named pools (CIDR, `a-b` span or one address) that machine groups allocate from. */
    pools: Record<string, string>;
    /** Addresses for LoadBalancer services (MetalLB L2). Defaults to none. */
    loadBalancerPool?: string;
}

/** One machine asking for an address: from a pool by ordinal, or a fixed address it already has. */
export interface AddressRequest {
    /** Unique machine name; the plan is keyed by it. */
    name: string;
    /** Key path reported with problems about this request. */
    path: string;
    /** Pool to allocate from; the machine gets `pool start + ordinal - 1`. */
    pool?: string;
    /** 1-based position in its group. Removing another machine never changes it. */
    ordinal?: number;
    /** A fixed address (bare metal that already has one). */
    address?: string;
}

/** The computed plan: known at preview time, identical on every run. */
export interface IpPlan {
    cidr: string;
    prefix: number;
    netmask: string;
    gateway: string;
    vip?: string;
    /** Machine name → address, in name order. */
    addresses: Record<string, string>;
    /** MetalLB pool as `first-last`, when configured. */
    loadBalancerRange?: string;
}

interface Named {
    path: string;
    label: string;
    range: Ipv4Range;
}

type Fail = (path: string, message: string) => void;

/** The subnet with its special addresses, and a checker for single addresses inside it. */
interface Subnet {
    range: Cidr;
    gateway?: number;
    vip?: number;
    /** A single address inside the subnet, not the network or broadcast address; reports and returns undefined otherwise. */
    hostAddress(path: string, text: string): number | undefined;
    /** `first-last` or a CIDR inside the subnet. */
    span(path: string, label: string, text: string): Named | undefined;
}

function subnetOf(spec: IpPlanSpec, base: string, fail: Fail): Subnet | undefined {
    const subnet = parseCidr(spec.cidr);
    if (typeof subnet === "string") {
        fail(`${base}.cidr`, subnet);
        return undefined;
    }
    if (subnet.prefix > 30) {
        fail(`${base}.cidr`, `/${subnet.prefix} leaves no room for machines; use /30 or larger (a smaller prefix)`);
        return undefined;
    }
    const special = (addr: number): string | undefined =>
        addr === subnet.first ? "the network address" : addr === subnet.last ? "the broadcast address" : undefined;
    const hostAddress = (path: string, text: string): number | undefined => {
        const addr = parseIp(text);
        if (addr === undefined) fail(path, `must be an IPv4 address like 10.0.0.1, got "${text}"`);
        else if (!contains(subnet, addr)) fail(path, `${text} is outside the subnet ${subnet.text}`);
        else if (special(addr)) fail(path, `${text} is ${special(addr)} of ${subnet.text}`);
        else return addr;
        return undefined;
    };
    const span = (path: string, label: string, text: string): Named | undefined => {
        const r = parseRange(text);
        if (typeof r === "string") {
            fail(path, r);
            return undefined;
        }
        if (!contains(subnet, r)) {
            fail(path, `${formatRange(r)} is outside the subnet ${subnet.text}`);
            return undefined;
        }
        return { path, label, range: r };
    };
    const gateway = hostAddress(`${base}.gateway`, spec.gateway);
    const vip = spec.vip === undefined ? undefined : hostAddress(`${base}.vip`, spec.vip);
    if (vip !== undefined && vip === gateway) fail(`${base}.vip`, `${spec.vip} is the gateway address`);
    return { range: subnet, gateway, vip, hostAddress, span };
}

/** Reserved ranges, pools and the load-balancer pool, checked against the special addresses and each other. */
function rangesOf(spec: IpPlanSpec, net: Subnet, base: string, fail: Fail): { reserved: Named[]; pools: Map<string, Named>; lb?: Named } {
    const { gateway, vip } = net;
    const reserved = (spec.reserved ?? []).flatMap((t, i) => net.span(`${base}.reserved[${i}]`, `reserved range ${t}`, t) ?? []);
    const pools = new Map<string, Named>();
    for (const [poolName, text] of Object.entries(spec.pools).sort(([a], [b]) => a.localeCompare(b))) {
        const pool = net.span(`${base}.pools.${poolName}`, `pool ${poolName}`, text);
        if (!pool) continue;
        pools.set(poolName, pool);
        for (const [addr, what] of [[net.range.first, "the network address"], [net.range.last, "the broadcast address"], [gateway, "the gateway"]] as const) {
            if (addr !== undefined && contains(pool.range, addr)) fail(pool.path, `contains ${what} ${formatIp(addr)}`);
        }
        if (vip !== undefined && contains(pool.range, vip)) fail(pool.path, `contains the control-plane VIP ${spec.vip}; move the VIP out of every pool`);
    }
    const lb = spec.loadBalancerPool === undefined ? undefined : net.span(`${base}.loadBalancerPool`, "the load-balancer pool", spec.loadBalancerPool);
    if (lb) {
        for (const [addr, what] of [[gateway, "the gateway"], [vip, "the control-plane VIP"]] as const) {
            if (addr !== undefined && contains(lb.range, addr)) fail(lb.path, `contains ${what} ${formatIp(addr)}`);
        }
    }
    // Pools, the load-balancer pool and reserved ranges must be pairwise disjoint (reserved may overlap reserved).
    // The VIP may sit inside a reserved range: reserving the VIP is how real IP plans keep DHCP and people off it.
    const allocating = [...pools.values(), ...(lb ? [lb] : [])];
    allocating.forEach((a, i) => {
        for (const b of allocating.slice(i + 1)) if (overlaps(a.range, b.range)) fail(b.path, `overlaps ${a.label} (${formatRange(a.range)})`);
        for (const r of reserved) if (overlaps(a.range, r.range)) fail(a.path, `overlaps ${r.label}`);
    });
    return { reserved, pools, lb };
}

/** Gives every request its address: pool start + ordinal − 1, or its fixed address when that is free to use. */
function allocate(spec: IpPlanSpec, requests: AddressRequest[], net: Subnet, ranges: ReturnType<typeof rangesOf>, fail: Fail): Map<string, number> {
    const { pools, lb, reserved } = ranges;
    const addresses = new Map<string, number>();
    const owner = new Map<number, string>();
    const claim = (req: AddressRequest, addr: number) => {
        const other = owner.get(addr);
        if (other !== undefined) {
            fail(req.path, `${req.name} would get ${formatIp(addr)}, already given to ${other}`);
            return;
        }
        owner.set(addr, req.name);
        addresses.set(req.name, addr);
    };
    const fixed = (req: AddressRequest, text: string) => {
        const addr = net.hostAddress(req.path, text);
        if (addr === undefined) return;
        if (addr === net.gateway || addr === net.vip) {
            fail(req.path, `${text} is the ${addr === net.gateway ? "gateway" : "control-plane VIP"}`);
            return;
        }
        const inPool = [...pools.values(), ...(lb ? [lb] : [])].find((p) => contains(p.range, addr));
        if (inPool) return fail(req.path, `${text} is inside ${inPool.label}, which groundwork allocates from`);
        const inReserved = reserved.find((r) => contains(r.range, addr));
        if (inReserved) return fail(req.path, `${text} is inside ${inReserved.label}, which no machine may use`);
        claim(req, addr);
    };
    // The most demanding ordinal per pool gives one "too small" message per pool, not one per machine.
    const tooSmall = new Map<string, { req: AddressRequest; need: number }>();
    for (const req of requests) {
        if (addresses.has(req.name) || [...tooSmall.values()].some((t) => t.req.name === req.name)) {
            fail(req.path, `duplicate machine name "${req.name}"`);
        } else if (req.address !== undefined) {
            fixed(req, req.address);
        } else if (req.pool !== undefined) {
            const pool = pools.get(req.pool);
            if (!pool) {
                if (!(req.pool in spec.pools)) fail(req.path, `pool "${req.pool}" is not defined; network.pools has: ${Object.keys(spec.pools).sort().join(", ") || "(none)"}`);
                continue;
            }
            const ordinal = req.ordinal ?? 1;
            if (ordinal > rangeSize(pool.range)) {
                const prev = tooSmall.get(req.pool);
                if (!prev || prev.need < ordinal) tooSmall.set(req.pool, { req, need: ordinal });
                continue;
            }
            claim(req, pool.range.first + ordinal - 1);
        }
    }
    for (const [poolName, { req, need }] of tooSmall) {
        const pool = pools.get(poolName)!;
        fail(req.path, `pool "${poolName}" (${formatRange(pool.range)}) has ${rangeSize(pool.range)} addresses; ${req.name} needs position ${need}`);
    }
    return addresses;
}

/**
 * Validates the network spec and assigns every requested address. Returns the plan, or every
 * problem found (never just the first).
 */
export function buildIpPlan(spec: IpPlanSpec, requests: AddressRequest[], base = "network"): { plan?: IpPlan; problems: Problem[] } {
    const problems: Problem[] = [];
    const fail: Fail = (path, message) => void problems.push({ path, message });
    const net = subnetOf(spec, base, fail);
    if (!net) return { problems };
    const ranges = rangesOf(spec, net, base, fail);
    const addresses = allocate(spec, requests, net, ranges, fail);
    if (problems.length > 0) return { problems };
    const sorted = [...addresses.entries()].sort(([a], [b]) => a.localeCompare(b));
    return {
        problems,
        plan: {
            cidr: net.range.text,
            prefix: net.range.prefix,
            netmask: formatIp(2 ** 32 - 2 ** (32 - net.range.prefix)),
            gateway: formatIp(net.gateway!),
            vip: net.vip === undefined ? undefined : formatIp(net.vip),
            addresses: Object.fromEntries(sorted.map(([n, a]) => [n, formatIp(a)])),
            loadBalancerRange: ranges.lb ? `${formatIp(ranges.lb.range.first)}-${formatIp(ranges.lb.range.last)}` : undefined,
        },
    };
}
