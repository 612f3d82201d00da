import { contains, formatIp, formatRange, Ipv4Range, overlaps, parseCidr, parseIp, parseRange, rangeSize } from "./ipv4";

/** A problem found in the network section, with the key path it belongs to. */
export interface Problem {
    path: string;
    message: string;
}

/** The network a platform lives in. All addresses are IPv4. */
export interface IpPlanSpec {
    /** The node subnet, e.g. `10.20.0.0/24`. */
    cidr: string;
    /** The subnet's gateway; never handed to a machine. */
    gateway: string;
    /** Addresses groundwork must never hand out (DHCP ranges, appliances). Defaults to none. */
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

/**
 * Validates the network spec and assigns every requested address. Returns the plan, or every
 * problem found (never just the first).
 */
export function buildIpPlan(spec: IpPlanSpec, requests: AddressRequest[], base = "network"): { plan?: IpPlan; problems: Problem[] } {
    const problems: Problem[] = [];
    const fail = (path: string, message: string) => problems.push({ path, message });
    const subnet = parseCidr(spec.cidr);
    if (typeof subnet === "string") {
        fail(`${base}.cidr`, subnet);
        return { problems };
    }
    if (subnet.prefix > 30) {
        fail(`${base}.cidr`, `/${subnet.prefix} leaves no room for machines; use /30 or larger (a smaller prefix)`);
        return { problems };
    }
    const network = subnet.first;
    const broadcast = subnet.last;
    const special = (addr: number): string | undefined =>
        addr === network ? "the network address" : addr === broadcast ? "the broadcast address" : undefined;

    // A single address inside the subnet, not the network or broadcast address.
    const hostAddress = (path: string, text: string): number | undefined => {
        const addr = parseIp(text);
        if (addr === undefined) {
            fail(path, `must be an IPv4 address like 10.0.0.1, got "${text}"`);
        } else if (!contains(subnet, addr)) {
            fail(path, `${text} is outside the subnet ${subnet.text}`);
        } else if (special(addr)) {
            fail(path, `${text} is ${special(addr)} of ${subnet.text}`);
        } else {
            return addr;
        }
        return undefined;
    };

    const gateway = hostAddress(`${base}.gateway`, spec.gateway);
    const vip = spec.vip === undefined ? undefined : hostAddress(`${base}.vip`, spec.vip);
    if (vip !== undefined && vip === gateway) {
        fail(`${base}.vip`, `${spec.vip} is the gateway address`);
    }

    const ranges = (path: string, label: string, text: string): Named | undefined => {
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

    const reserved = (spec.reserved ?? []).map((t, i) => ranges(`${base}.reserved[${i}]`, `reserved range ${t}`, t));
    const pools = new Map<string, Named>();
    for (const [poolName, text] of Object.entries(spec.pools).sort(([a], [b]) => a.localeCompare(b))) {
        const pool = ranges(`${base}.pools.${poolName}`, `pool ${poolName}`, text);
        if (!pool) continue;
        pools.set(poolName, pool);
        for (const [addr, what] of [[network, "the network address"], [broadcast, "the broadcast address"], [gateway, "the gateway"]] as const) {
            if (addr !== undefined && contains(pool.range, addr)) {
                fail(pool.path, `contains ${what} ${formatIp(addr)}`);
            }
        }
        if (vip !== undefined && contains(pool.range, vip)) {
            fail(pool.path, `contains the control-plane VIP ${spec.vip}; move the VIP out of every pool`);
        }
    }
    const lb = spec.loadBalancerPool === undefined ? undefined : ranges(`${base}.loadBalancerPool`, "the load-balancer pool", spec.loadBalancerPool);
    if (lb) {
        for (const [addr, what] of [[gateway, "the gateway"], [vip, "the control-plane VIP"]] as const) {
            if (addr !== undefined && contains(lb.range, addr)) fail(lb.path, `contains ${what} ${formatIp(addr)}`);
        }
    }

    // Pools, the load-balancer pool and reserved ranges must be pairwise disjoint (reserved may overlap reserved).
    const allocating = [...pools.values(), ...(lb ? [lb] : [])];
    allocating.forEach((a, i) => {
        for (const b of allocating.slice(i + 1)) {
            if (overlaps(a.range, b.range)) fail(b.path, `overlaps ${a.label} (${formatRange(a.range)})`);
        }
        for (const r of reserved) {
            if (r && overlaps(a.range, r.range)) fail(a.path, `overlaps ${r.label}`);
        }
    });
    for (const r of reserved) {
        if (r && vip !== undefined && contains(r.range, vip)) fail(`${base}.vip`, `${spec.vip} is inside ${r.label}`);
    }

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
    // The most demanding ordinal per pool gives one "too small" message per pool, not one per machine.
    const tooSmall = new Map<string, { req: AddressRequest; need: number }>();
    for (const req of requests) {
        if (addresses.has(req.name) || [...tooSmall.values()].some((t) => t.req.name === req.name)) {
            fail(req.path, `duplicate machine name "${req.name}"`);
            continue;
        }
        if (req.address !== undefined) {
            const addr = hostAddress(req.path, req.address);
            if (addr === undefined) continue;
            if (addr === gateway || addr === vip) {
                fail(req.path, `${req.address} is the ${addr === gateway ? "gateway" : "control-plane VIP"}`);
                continue;
            }
            const inPool = [...pools.values(), ...(lb ? [lb] : [])].find((p) => contains(p.range, addr));
            if (inPool) {
                fail(req.path, `${req.address} is inside ${inPool.label}, which groundwork allocates from`);
                continue;
            }
            claim(req, addr);
        } else if (req.pool !== undefined) {
            const pool = pools.get(req.pool);
            if (!pool) {
                if (!(req.pool in spec.pools)) {
                    fail(req.path, `pool "${req.pool}" is not defined; network.pools has: ${Object.keys(spec.pools).sort().join(", ") || "(none)"}`);
                }
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

    if (problems.length > 0) return { problems };
    const sorted = [...addresses.entries()].sort(([a], [b]) => a.localeCompare(b));
    const netmask = formatIp(2 ** 32 - 2 ** (32 - subnet.prefix));
    return {
        problems,
        plan: {
            cidr: subnet.text,
            prefix: subnet.prefix,
            netmask,
            gateway: formatIp(gateway!),
            vip: vip === undefined ? undefined : formatIp(vip),
            addresses: Object.fromEntries(sorted.map(([n, a]) => [n, formatIp(a)])),
            loadBalancerRange: lb ? `${formatIp(lb.range.first)}-${formatIp(lb.range.last)}` : undefined,
        },
    };
}
