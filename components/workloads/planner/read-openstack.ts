import { Inventory, InventoryIssue, Vm } from "./inventory";
import { parsePercent, parsePorts } from "./units";

/** Credentials of the OpenStack API, as the OS_* variables of an openrc give them. */
export interface OpenStackCredentials {
    authUrl: string;
    username: string;
    password: string;
    projectName: string;
    userDomainName: string;
    projectDomainName: string;
}

/** Reads OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME, OS_USER_DOMAIN_NAME, OS_PROJECT_DOMAIN_NAME; names the missing ones. */
export function credentialsFromEnv(env: NodeJS.ProcessEnv): { credentials?: OpenStackCredentials; missing: string[] } {
    const need = ["OS_AUTH_URL", "OS_USERNAME", "OS_PASSWORD", "OS_PROJECT_NAME"];
    const missing = need.filter((k) => !env[k]);
    if (missing.length > 0) return { missing };
    return {
        missing,
        credentials: {
            authUrl: env.OS_AUTH_URL!.replace(/\/$/, ""),
            username: env.OS_USERNAME!,
            password: env.OS_PASSWORD!,
            projectName: env.OS_PROJECT_NAME!,
            userDomainName: env.OS_USER_DOMAIN_NAME ?? "Default",
            projectDomainName: env.OS_PROJECT_DOMAIN_NAME ?? "Default",
        },
    };
}

type Fetch = typeof fetch;

/** One line for a failed request: the URL and the cause (connection refused, HTTP status). */
function describeFailure(url: string, e: unknown): string {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    return `cannot reach ${url}: ${cause?.code ?? cause?.message ?? (e as Error).message}`;
}

/**
 * Reads the servers of the project from the live OpenStack API: a keystone v3 password token,
 * then nova `GET /servers/detail` (microversion 2.79, whose server.flavor carries vcpus, ram and
 * disk) and, for older clouds, `GET /flavors/detail` by id. Metadata is kept; metadata keys
 * `cpu_pNN`/`mem_pNN` are utilisation percentiles; a `ports` key lists listening ports. Image
 * names come from glance when it answers.
 */
export async function readOpenStack(c: OpenStackCredentials, fetchImpl: Fetch = fetch, timeoutMs = 15000): Promise<Inventory> {
    const source = `openstack ${c.authUrl} project ${c.projectName}`;
    const issues: InventoryIssue[] = [];
    const fatal = (where: string, message: string): Inventory => ({ source, vms: [], issues: [...issues, { where, message, effect: "fatal" }] });
    const call = async (url: string, init: RequestInit = {}) => fetchImpl(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    let res: Response;
    const tokenUrl = `${c.authUrl}${/\/v3$/.test(c.authUrl) ? "" : "/v3"}/auth/tokens`;
    try {
        res = await call(tokenUrl, {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ auth: { identity: { methods: ["password"], password: { user: { name: c.username, domain: { name: c.userDomainName }, password: c.password } } }, scope: { project: { name: c.projectName, domain: { name: c.projectDomainName } } } } }),
        });
    } catch (e) {
        return fatal("openstack", `keystone: ${describeFailure(tokenUrl, e)}`);
    }
    if (res.status !== 201) return fatal("openstack", `keystone: ${tokenUrl} answered ${res.status} (check OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME)`);
    const token = res.headers.get("x-subject-token") ?? "";
    const catalog = ((await res.json()) as { token: { catalog?: { type: string; endpoints: { interface: string; url: string }[] }[] } }).token.catalog ?? [];
    const endpoint = (type: string) => catalog.find((s) => s.type === type)?.endpoints.find((e) => e.interface === "public")?.url.replace(/\/$/, "");
    const compute = endpoint("compute");
    if (!compute) return fatal("openstack", "keystone's catalog has no public compute endpoint");
    const get = async <T>(url: string): Promise<T> => {
        let r: Response;
        try {
            r = await call(url, { headers: { "X-Auth-Token": token, "OpenStack-API-Version": "compute 2.79", Accept: "application/json" } });
        } catch (e) {
            throw new Error(describeFailure(url, e));
        }
        if (!r.ok) throw new Error(`${url} answered ${r.status}`);
        return (await r.json()) as T;
    };
    let servers: any[];
    try {
        servers = (await get<{ servers: any[] }>(`${compute}/servers/detail`)).servers;
    } catch (e) {
        return fatal("openstack", `nova: ${(e as Error).message}`);
    }
    const flavors = new Map<string, { vcpus: number; ram: number; disk: number; name: string }>();
    if (servers.some((s) => s.flavor && s.flavor.vcpus === undefined)) {
        try {
            for (const f of (await get<{ flavors: any[] }>(`${compute}/flavors/detail?is_public=None`)).flavors) flavors.set(f.id, f);
        } catch (e) {
            issues.push({ where: "openstack", message: `nova flavors: ${(e as Error).message}; servers without embedded flavor sizes are left out`, effect: "note" });
        }
    }
    const images = new Map<string, string>();
    const glance = endpoint("image");
    if (glance && servers.some((s) => s.image && s.image.id)) {
        try {
            for (const i of (await get<{ images: { id: string; name: string }[] }>(`${glance}/v2/images?limit=1000`)).images) images.set(i.id, i.name);
        } catch (e) {
            issues.push({ where: "openstack", message: `glance: ${(e as Error).message}; image names not used for classification`, effect: "note" });
        }
    }
    const vms: Vm[] = [];
    for (const s of [...servers].sort((a, b) => String(a.name).localeCompare(String(b.name)))) {
        const where = `openstack: server ${s.name} (${s.id})`;
        const f = s.flavor?.vcpus !== undefined ? { vcpus: s.flavor.vcpus, ram: s.flavor.ram, disk: s.flavor.disk, name: s.flavor.original_name } : flavors.get(s.flavor?.id);
        if (!f || !(f.vcpus >= 1) || !(f.ram > 0)) {
            issues.push({ where, message: `${s.name}: no size (flavor ${s.flavor?.original_name ?? s.flavor?.id ?? "missing"} has no vcpus/ram); left out`, effect: "left-out" });
            continue;
        }
        const metadata: Record<string, string> = { ...(s.metadata ?? {}) };
        const util: Partial<Record<"cpu" | "mem", number>> = {};
        let pct: number | undefined;
        const problems: string[] = [];
        for (const [k, v] of Object.entries(metadata)) {
            const m = /^(cpu|mem)_p(\d{1,2})$/.exec(k);
            if (!m) continue;
            const p = parsePercent(`metadata ${k}`, v);
            if (!p.ok) problems.push(p.message);
            else if (pct !== undefined && pct !== Number(m[2])) problems.push(`metadata ${k}: a second percentile (p${pct} already given)`);
            else {
                util[m[1] as "cpu" | "mem"] = p.value;
                pct = Number(m[2]);
            }
        }
        let ports: number[] = [];
        if (metadata.ports) {
            const p = parsePorts("metadata ports", metadata.ports);
            if (p.ok) ports = p.value;
            else problems.push(p.message);
        }
        if (problems.length > 0) {
            issues.push({ where, message: `${s.name}: ${problems.join("; ")}; left out`, effect: "left-out" });
            continue;
        }
        vms.push({
            name: s.name,
            vcpus: f.vcpus,
            memoryMiB: f.ram,
            diskGiB: f.disk > 0 ? f.disk : undefined,
            cpuPercent: util.cpu,
            memPercent: util.mem,
            percentile: pct,
            image: s.image?.id ? images.get(s.image.id) ?? s.image.id : undefined,
            ports,
            metadata,
            host: s["OS-EXT-SRV-ATTR:host"] ?? undefined,
            poweredOn: s.status === "ACTIVE",
            where,
        });
    }
    return { source, vms, issues };
}
