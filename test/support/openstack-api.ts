import { execFileSync } from "child_process";
import * as path from "path";

/**
 * A thin client of the real OpenStack API (the local one on loopback), used by integration tests
 * to check what Pulumi created independently of Pulumi's own outputs.
 */
export interface OpenStackEnv {
    [key: string]: string;
}

const LAUNCHER = path.resolve(__dirname, "../../tools/openstack/local.sh");

/** The OS_* variables of the local OpenStack (tools/openstack/local.sh env). */
export function localOpenStackEnv(state?: string): OpenStackEnv {
    const out = execFileSync("bash", [LAUNCHER, ...(state ? ["--state", state] : []), "env"], { encoding: "utf8" });
    const env: OpenStackEnv = {};
    for (const m of out.matchAll(/^export (OS_[A-Z_]+)=(.*)$/gm)) env[m[1]] = m[2].replace(/^'(.*)'$/, "$1");
    return env;
}

export class OpenStackApi {
    private token?: string;
    private catalog = new Map<string, string>();

    constructor(private readonly env: OpenStackEnv) {}

    private async login(): Promise<void> {
        const body = {
            auth: {
                identity: { methods: ["password"], password: { user: { name: this.env.OS_USERNAME, domain: { name: this.env.OS_USER_DOMAIN_NAME }, password: this.env.OS_PASSWORD } } },
                scope: { project: { name: this.env.OS_PROJECT_NAME, domain: { name: this.env.OS_PROJECT_DOMAIN_NAME } } },
            },
        };
        const res = await fetch(`${this.env.OS_AUTH_URL}/auth/tokens`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
        if (res.status !== 201) throw new Error(`keystone answered ${res.status}: ${await res.text()}`);
        this.token = res.headers.get("x-subject-token") ?? undefined;
        const doc = (await res.json()) as { token: { catalog: { type: string; endpoints: { interface: string; url: string }[] }[] } };
        for (const svc of doc.token.catalog) {
            const ep = svc.endpoints.find((e) => e.interface === "public");
            if (ep) this.catalog.set(svc.type, ep.url.replace(/\/$/, ""));
        }
    }

    /** GET a path of a service (`compute`, `network`, `image`) and return the parsed JSON. */
    async get<T = any>(service: string, urlPath: string): Promise<T> {
        if (!this.token) await this.login();
        const base = this.catalog.get(service);
        if (!base) throw new Error(`no ${service} endpoint in the catalog`);
        const prefix = service === "network" ? "/v2.0" : "";
        const res = await fetch(`${base}${prefix}${urlPath}`, { headers: { "X-Auth-Token": this.token!, "OpenStack-API-Version": "compute 2.79" } });
        if (!res.ok) throw new Error(`GET ${service} ${urlPath} answered ${res.status}`);
        return (await res.json()) as T;
    }

    /** POST/DELETE a path of a service; returns the parsed JSON body, if any. */
    async send<T = any>(method: "POST" | "DELETE", service: string, urlPath: string, body?: unknown): Promise<T | undefined> {
        if (!this.token) await this.login();
        const base = this.catalog.get(service);
        if (!base) throw new Error(`no ${service} endpoint in the catalog`);
        const prefix = service === "network" ? "/v2.0" : "";
        const res = await fetch(`${base}${prefix}${urlPath}`, {
            method,
            headers: { "X-Auth-Token": this.token!, "OpenStack-API-Version": "compute 2.79", "Content-Type": "application/json" },
            body: body === undefined ? undefined : JSON.stringify(body),
        });
        if (!res.ok) throw new Error(`${method} ${service} ${urlPath} answered ${res.status}: ${await res.text()}`);
        const text = await res.text();
        return text ? (JSON.parse(text) as T) : undefined;
    }

    async servers(prefix: string): Promise<{ name: string; status: string; id: string; metadata: Record<string, string>; host: string; addresses: Record<string, { addr: string }[]> }[]> {
        const doc = await this.get<{ servers: any[] }>("compute", "/servers/detail?all_tenants=1");
        return doc.servers
            .filter((s) => s.name.startsWith(prefix))
            .map((s) => ({ name: s.name, status: s.status, id: s.id, metadata: s.metadata, host: s["OS-EXT-SRV-ATTR:host"], addresses: s.addresses }))
            .sort((a, b) => a.name.localeCompare(b.name));
    }

    async ports(prefix: string): Promise<{ name: string; fixed_ips: { ip_address: string }[]; security_groups: string[]; device_id: string; mac_address: string }[]> {
        const doc = await this.get<{ ports: any[] }>("network", "/ports");
        return doc.ports.filter((p) => p.name.startsWith(prefix)).sort((a, b) => a.name.localeCompare(b.name));
    }

    async securityGroups(prefix: string): Promise<{ id: string; name: string; security_group_rules: { direction: string; protocol: string | null; port_range_min: number | null; port_range_max: number | null; remote_ip_prefix: string | null; ethertype: string }[] }[]> {
        const doc = await this.get<{ security_groups: any[] }>("network", "/security-groups");
        return doc.security_groups.filter((g) => g.name.startsWith(prefix));
    }

    async serverGroups(prefix: string): Promise<{ name: string; policy?: string; policies?: string[]; members: string[] }[]> {
        const doc = await this.get<{ server_groups: any[] }>("compute", "/os-server-groups?all_projects=true");
        return doc.server_groups.filter((g) => g.name.startsWith(prefix));
    }

    async networks(name: string): Promise<{ id: string; name: string }[]> {
        const doc = await this.get<{ networks: any[] }>("network", `/networks?name=${encodeURIComponent(name)}`);
        return doc.networks;
    }
}
