/**
 * A small client for the OCI distribution API (v2) — what `groundwork seed` needs to copy images
 * into a registry: blob existence checks, monolithic blob uploads, manifests. Basic auth, or the
 * Bearer token flow when the registry answers with a Bearer challenge (Harbor). TLS is verified
 * against the given CA (or the system's trust store). The connection may go to another address
 * than the registry's name (a tunnel or an address the operator's host reaches); SNI and Host
 * keep the name.
 */
import * as https from "https";

export interface RegistryTarget {
    /** Registry name as nodes use it (certificate name, Host header). */
    host: string;
    port: number;
    /** Where to connect; defaults to host:port. */
    connectAddress?: string;
    connectPort?: number;
    /** PEM of the CA that signed the registry's certificate; the system trust store when absent. */
    caPem?: string;
    username: string;
    password: string;
}

export interface HttpResult {
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: Buffer;
}

/** Every manifest media type the seeder copies. */
export const MANIFEST_TYPES = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

export class RegistryError extends Error {
    constructor(
        message: string,
        readonly status?: number,
    ) {
        super(message);
    }
}

export class RegistryClient {
    private bearer = new Map<string, string>();
    /** One TLS connection reused for every request (a seed makes hundreds). */
    private agent = new https.Agent({ keepAlive: true, maxSockets: 1 });

    constructor(readonly target: RegistryTarget) {}

    /** Closes the kept-alive connection. */
    close(): void {
        this.agent.destroy();
    }

    get authority(): string {
        return this.target.port === 443 ? this.target.host : `${this.target.host}:${this.target.port}`;
    }

    private raw(method: string, pathAndQuery: string, headers: Record<string, string>, body?: Buffer): Promise<HttpResult> {
        const t = this.target;
        return new Promise((resolve, reject) => {
            const req = https.request(
                {
                    host: t.connectAddress ?? t.host,
                    port: t.connectPort ?? t.port,
                    servername: /^[0-9.]+$/.test(t.host) ? undefined : t.host,
                    ca: t.caPem,
                    agent: this.agent,
                    method,
                    path: pathAndQuery,
                    headers: { Host: this.authority, "Content-Length": String(body?.length ?? 0), ...headers },
                    timeout: 120_000,
                },
                (res) => {
                    const chunks: Buffer[] = [];
                    res.on("data", (c: Buffer) => chunks.push(c));
                    res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
                },
            );
            req.on("timeout", () => req.destroy(new RegistryError(`${method} ${pathAndQuery}: no answer in 120 s`)));
            req.on("error", (e) => reject(new RegistryError(`${this.authority} unreachable at ${t.connectAddress ?? t.host}:${t.connectPort ?? t.port}: ${e.message}`)));
            req.end(body);
        });
    }

    private basic(): string {
        return `Basic ${Buffer.from(`${this.target.username}:${this.target.password}`).toString("base64")}`;
    }

    /** Gets a Bearer token for `scope` from the realm a 401 challenge named. */
    private async token(challenge: string, scope: string): Promise<string | undefined> {
        const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
        if (!params.realm) return undefined;
        const realm = new URL(params.realm);
        if (params.service) realm.searchParams.set("service", params.service);
        realm.searchParams.set("scope", scope);
        const r = await this.raw("GET", `${realm.pathname}${realm.search}`, { Authorization: this.basic() });
        if (r.status !== 200) return undefined;
        const body = JSON.parse(r.body.toString()) as { token?: string; access_token?: string };
        return body.token ?? body.access_token;
    }

    /** A request with credentials; a Bearer challenge is answered once per repository scope. */
    async request(method: string, pathAndQuery: string, opts: { headers?: Record<string, string>; body?: Buffer; scope?: string } = {}): Promise<HttpResult> {
        const scope = opts.scope ?? "registry:catalog:*";
        const auth = this.bearer.get(scope) ? `Bearer ${this.bearer.get(scope)}` : this.basic();
        let r = await this.raw(method, pathAndQuery, { Authorization: auth, ...(opts.headers ?? {}) }, opts.body);
        const challenge = String(r.headers["www-authenticate"] ?? "");
        if (r.status === 401 && /^Bearer /i.test(challenge) && !this.bearer.has(scope)) {
            const token = await this.token(challenge, scope);
            if (token) {
                this.bearer.set(scope, token);
                r = await this.raw(method, pathAndQuery, { Authorization: `Bearer ${token}`, ...(opts.headers ?? {}) }, opts.body);
            }
        }
        return r;
    }

    /** GET /v2/: 200 when TLS and credentials are right; throws a RegistryError that says which is wrong. */
    async check(): Promise<void> {
        const r = await this.request("GET", "/v2/");
        if (r.status === 401 || r.status === 403) {
            throw new RegistryError(`registry ${this.authority}: user "${this.target.username}" was refused (HTTP ${r.status}); check the user and password`, r.status);
        }
        if (r.status !== 200) throw new RegistryError(`registry ${this.authority}: GET /v2/ answered HTTP ${r.status}, not a registry API`, r.status);
    }

    async hasBlob(repo: string, digest: string): Promise<boolean> {
        const r = await this.request("HEAD", `/v2/${repo}/blobs/${digest}`, { scope: `repository:${repo}:pull,push` });
        return r.status === 200;
    }

    /** Uploads a blob in one PUT; the registry checks the digest. */
    async putBlob(repo: string, digest: string, data: Buffer): Promise<void> {
        const scope = `repository:${repo}:pull,push`;
        const start = await this.request("POST", `/v2/${repo}/blobs/uploads/`, { scope });
        if (start.status !== 202) throw new RegistryError(`${repo}: starting the upload of ${digest} answered HTTP ${start.status}: ${start.body.toString().slice(0, 200)}`, start.status);
        const location = new URL(String(start.headers.location), `https://${this.authority}`);
        location.searchParams.set("digest", digest);
        const put = await this.request("PUT", `${location.pathname}${location.search}`, { scope, body: data, headers: { "Content-Type": "application/octet-stream" } });
        if (put.status !== 201) throw new RegistryError(`${repo}: upload of ${digest} answered HTTP ${put.status}: ${put.body.toString().slice(0, 200)}`, put.status);
    }

    /** The digest the registry holds for repo:reference, or undefined when it has none. */
    async manifestDigest(repo: string, reference: string): Promise<string | undefined> {
        const r = await this.request("HEAD", `/v2/${repo}/manifests/${reference}`, { scope: `repository:${repo}:pull`, headers: { Accept: MANIFEST_TYPES.join(", ") } });
        if (r.status !== 200) return undefined;
        return String(r.headers["docker-content-digest"] ?? "") || undefined;
    }

    /** Stores a manifest under `reference` and returns the digest the registry computed. */
    async putManifest(repo: string, reference: string, bytes: Buffer, mediaType: string): Promise<string> {
        const put = await this.request("PUT", `/v2/${repo}/manifests/${reference}`, { scope: `repository:${repo}:pull,push`, body: bytes, headers: { "Content-Type": mediaType } });
        if (put.status !== 201) throw new RegistryError(`${repo}:${reference}: manifest answered HTTP ${put.status}: ${put.body.toString().slice(0, 200)}`, put.status);
        return String(put.headers["docker-content-digest"] ?? "");
    }
}
