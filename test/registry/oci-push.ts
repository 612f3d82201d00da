/**
 * A small OCI pusher for tests: uploads the image in an OCI image-layout tarball (as written by
 * tools/guest/tiny-image.sh) to a registry through the distribution API v2 — monolithic blob
 * uploads, then the manifest — with basic auth over TLS verified against a given CA.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as https from "https";
import * as os from "os";
import * as path from "path";

export interface PushTarget {
    /** Name in the registry's certificate (TLS is verified against it). */
    host: string;
    /** Where to connect: a loopback address and port that reach the registry (e.g. a tunnel). */
    connectAddress: string;
    connectPort: number;
    /** Port in the Host header, i.e. the port clients normally use. */
    port: number;
    caPem: string;
    username: string;
    password: string;
}

export interface PushResult {
    manifestDigest: string;
    blobs: number;
    bytes: number;
    seconds: number;
}

interface HttpResult {
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: string;
}

function request(t: PushTarget, method: string, pathAndQuery: string, body?: Buffer, headers: Record<string, string> = {}): Promise<HttpResult> {
    return new Promise((resolve, reject) => {
        const auth = Buffer.from(`${t.username}:${t.password}`).toString("base64");
        const req = https.request(
            {
                host: t.connectAddress,
                port: t.connectPort,
                servername: t.host,
                ca: t.caPem,
                method,
                path: pathAndQuery,
                headers: { Host: `${t.host}:${t.port}`, Authorization: `Basic ${auth}`, "Content-Length": String(body?.length ?? 0), ...headers },
                timeout: 60_000,
            },
            (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (c: Buffer) => chunks.push(c));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
            },
        );
        req.on("timeout", () => req.destroy(new Error(`${method} ${pathAndQuery}: timed out`)));
        req.on("error", reject);
        req.end(body);
    });
}

function expect(r: HttpResult, status: number, what: string): void {
    if (r.status !== status) throw new Error(`${what}: HTTP ${r.status} (expected ${status}): ${r.body.slice(0, 300)}`);
}

/** GET /v2/ with the target's credentials: 200 when TLS and auth are right. */
export async function checkRegistry(t: PushTarget): Promise<number> {
    return (await request(t, "GET", "/v2/")).status;
}

/** Anonymous GET /v2/: a registry with auth answers 401. */
export async function anonymousStatus(t: PushTarget): Promise<number> {
    return new Promise((resolve, reject) => {
        https
            .get({ host: t.connectAddress, port: t.connectPort, servername: t.host, ca: t.caPem, path: "/v2/", headers: { Host: `${t.host}:${t.port}` } }, (res) => {
                res.resume();
                resolve(res.statusCode ?? 0);
            })
            .on("error", reject);
    });
}

async function pushBlob(t: PushTarget, repo: string, digest: string, data: Buffer): Promise<boolean> {
    const head = await request(t, "HEAD", `/v2/${repo}/blobs/${digest}`);
    if (head.status === 200) return false;
    const start = await request(t, "POST", `/v2/${repo}/blobs/uploads/`);
    expect(start, 202, `start upload of ${digest}`);
    const location = new URL(String(start.headers.location), `https://${t.host}:${t.port}`);
    location.searchParams.set("digest", digest);
    const put = await request(t, "PUT", `${location.pathname}${location.search}`, data, { "Content-Type": "application/octet-stream" });
    expect(put, 201, `upload of ${digest}`);
    return true;
}

/** Pushes the single image in `tarball` (an OCI image layout) as `repo:tag`. */
export async function pushOciTarball(tarball: string, repo: string, tag: string, target: PushTarget): Promise<PushResult> {
    const t0 = Date.now();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-oci-"));
    try {
        execFileSync("tar", ["-xf", tarball, "-C", dir]);
        const blob = (digest: string) => fs.readFileSync(path.join(dir, "blobs", ...digest.split(":")));
        const index = JSON.parse(fs.readFileSync(path.join(dir, "index.json"), "utf8"));
        const desc = index.manifests?.[0];
        if (!desc?.digest) throw new Error(`${tarball}: index.json names no manifest`);
        const manifestBytes = blob(desc.digest);
        const manifest = JSON.parse(manifestBytes.toString());
        let bytes = 0;
        let blobs = 0;
        for (const d of [manifest.config, ...manifest.layers] as { digest: string }[]) {
            const data = blob(d.digest);
            if (await pushBlob(target, repo, d.digest, data)) {
                blobs++;
                bytes += data.length;
            }
        }
        const put = await request(target, "PUT", `/v2/${repo}/manifests/${tag}`, manifestBytes, { "Content-Type": desc.mediaType ?? manifest.mediaType });
        expect(put, 201, `manifest ${repo}:${tag}`);
        const manifestDigest = String(put.headers["docker-content-digest"] ?? desc.digest);
        return { manifestDigest, blobs, bytes, seconds: (Date.now() - t0) / 1000 };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
