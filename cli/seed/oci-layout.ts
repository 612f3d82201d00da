/**
 * Reads an OCI image layout — a folder, or a tar of one (`docker save`-style OCI archives,
 * `skopeo copy oci-archive:`, containerd's `ctr export`) — and finds images by their full name.
 * Every blob read is checked against its digest.
 */
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export interface Descriptor {
    mediaType: string;
    digest: string;
    size: number;
    annotations?: Record<string, string>;
}

/** `busybox:1` → `docker.io/library/busybox:1`: how containerd names images. */
export function normalizeReference(ref: string): string {
    const first = ref.split("/")[0];
    const hasHost = ref.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
    if (hasHost) return ref;
    return ref.includes("/") ? `docker.io/${ref}` : `docker.io/library/${ref}`;
}

export class OciLayout {
    /** Full image name → its top-level descriptor (a manifest or an index). */
    readonly images = new Map<string, Descriptor>();

    private constructor(
        readonly root: string,
        private readonly cleanup?: string,
    ) {
        const indexFile = path.join(root, "index.json");
        if (!fs.existsSync(indexFile)) throw new Error(`no index.json: not an OCI image layout`);
        const index = JSON.parse(fs.readFileSync(indexFile, "utf8")) as { manifests?: Descriptor[] };
        for (const d of index.manifests ?? []) {
            const name = d.annotations?.["io.containerd.image.name"] ?? d.annotations?.["org.opencontainers.image.ref.name"];
            // A bare tag as ref.name (skopeo's `oci:dir:tag`) names no image: it cannot be matched to the bill of materials.
            if (name && name.includes(":")) this.images.set(normalizeReference(name), d);
        }
    }

    /** Opens a layout folder or extracts a tar of one into a temporary folder (removed by close()). */
    static open(from: string): OciLayout {
        if (!fs.existsSync(from)) throw new Error(`${from}: no such file or folder`);
        if (fs.statSync(from).isDirectory()) return new OciLayout(from);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-seed-"));
        try {
            execFileSync("tar", ["-xf", from, "-C", dir], { stdio: ["ignore", "ignore", "pipe"] });
            return new OciLayout(dir, dir);
        } catch (e) {
            fs.rmSync(dir, { recursive: true, force: true });
            const why = e instanceof Error && "stderr" in e ? String((e as { stderr: Buffer }).stderr).trim() : String(e);
            throw new Error(why.startsWith("no index.json") ? why : `cannot read as a tar of an OCI layout: ${why || (e as Error).message}`);
        }
    }

    close(): void {
        if (this.cleanup) fs.rmSync(this.cleanup, { recursive: true, force: true });
    }

    /** Whether the archive holds a blob. */
    has(digest: string): boolean {
        const [alg, hex] = digest.split(":");
        return fs.existsSync(path.join(this.root, "blobs", alg, hex ?? ""));
    }

    /** A blob's bytes, verified against its digest. */
    blob(digest: string): Buffer {
        const [alg, hex] = digest.split(":");
        if (alg !== "sha256" || !/^[0-9a-f]{64}$/.test(hex ?? "")) throw new Error(`unsupported digest ${digest}`);
        const file = path.join(this.root, "blobs", alg, hex);
        if (!fs.existsSync(file)) throw new Error(`blob ${digest} is missing from the archive`);
        const data = fs.readFileSync(file);
        const actual = `sha256:${createHash("sha256").update(data).digest("hex")}`;
        if (actual !== digest) throw new Error(`blob ${digest} is corrupt in the archive (its content hashes to ${actual})`);
        return data;
    }
}
