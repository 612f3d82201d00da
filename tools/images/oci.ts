/**
 * Builds OCI images without a container engine: each layer is a deterministic tar (fixed order,
 * owner and time, gzip without name or time) of a folder, the config and manifest are canonical
 * JSON, and every image goes into one OCI image layout under its full name — the form
 * `groundwork seed` reads and `ctr images import` loads. Same inputs → byte-identical blobs.
 */
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export interface ImageConfig {
    Entrypoint?: string[];
    Cmd?: string[];
    Env?: string[];
    User?: string;
    WorkingDir?: string;
}

export interface ImageSpec {
    /** Full reference, e.g. `registry.k8s.io/pause:3.10`. */
    name: string;
    /** Folders whose contents become the layers, bottom first. */
    layers: string[];
    config: ImageConfig;
}

export interface BuiltImage {
    name: string;
    manifestDigest: string;
    /** Compressed bytes of the image's layers. */
    bytes: number;
}

interface Descriptor {
    mediaType: string;
    digest: string;
    size: number;
}

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

export class LayoutWriter {
    private manifests: (Descriptor & { annotations: Record<string, string>; platform: { architecture: string; os: string } })[] = [];
    /** Folder → its layer, so a folder shared by several images is packed once. */
    private layerCache = new Map<string, { layer: Descriptor; diffId: string }>();

    constructor(readonly dir: string) {
        fs.mkdirSync(path.join(dir, "blobs", "sha256"), { recursive: true });
    }

    /** Stores bytes as a blob; returns its descriptor. */
    blob(mediaType: string, data: Buffer): Descriptor {
        const hex = sha256(data);
        const file = path.join(this.dir, "blobs", "sha256", hex);
        if (!fs.existsSync(file)) fs.writeFileSync(file, data);
        return { mediaType, digest: `sha256:${hex}`, size: data.length };
    }

    /** A folder as a gzip layer: the tar's digest is the diff id, the gzip's the blob. */
    layer(folder: string): { layer: Descriptor; diffId: string } {
        const key = path.resolve(folder);
        const cached = this.layerCache.get(key);
        if (cached) return cached;
        if (!fs.existsSync(folder)) throw new Error(`layer folder ${folder} does not exist`);
        const tar = execFileSync("tar", ["--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner", "--format=gnu", "-C", folder, "-cf", "-", "."], { maxBuffer: 2 ** 31 });
        const gz = execFileSync("gzip", ["-6n"], { input: tar, maxBuffer: 2 ** 31 });
        const out = { layer: this.blob("application/vnd.oci.image.layer.v1.tar+gzip", gz), diffId: `sha256:${sha256(tar)}` };
        this.layerCache.set(key, out);
        return out;
    }

    add(spec: ImageSpec): BuiltImage {
        const layers = spec.layers.map((l) => this.layer(l));
        const config = {
            architecture: "amd64",
            config: spec.config,
            created: "1970-01-01T00:00:00Z",
            history: layers.map(() => ({ created: "1970-01-01T00:00:00Z", created_by: "groundwork tools/images" })),
            os: "linux",
            rootfs: { diff_ids: layers.map((l) => l.diffId), type: "layers" },
        };
        const configDesc = this.blob("application/vnd.oci.image.config.v1+json", Buffer.from(JSON.stringify(config)));
        const manifest = { schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: configDesc, layers: layers.map((l) => l.layer) };
        const m = this.blob("application/vnd.oci.image.manifest.v1+json", Buffer.from(JSON.stringify(manifest)));
        this.manifests = this.manifests.filter((x) => x.annotations["io.containerd.image.name"] !== spec.name);
        this.manifests.push({ ...m, platform: { architecture: "amd64", os: "linux" }, annotations: { "io.containerd.image.name": spec.name, "org.opencontainers.image.ref.name": spec.name } });
        return { name: spec.name, manifestDigest: m.digest, bytes: layers.reduce((n, l) => n + l.layer.size, 0) };
    }

    /** Writes index.json (images in name order) and oci-layout. */
    finish(): void {
        const manifests = [...this.manifests].sort((a, b) => a.annotations["io.containerd.image.name"].localeCompare(b.annotations["io.containerd.image.name"]));
        fs.writeFileSync(path.join(this.dir, "index.json"), JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests }));
        fs.writeFileSync(path.join(this.dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    }
}

/**
 * A new folder for a layer's root under `under` (default: the system's temporary folder). Mode
 * 0755 like any root: the layer's `./` entry carries it, and mkdtemp's 0700 would lock every
 * non-root process (pause runs as 65535) out of `/`.
 */
function layerRoot(prefix: string, under?: string): string {
    const root = fs.mkdtempSync(path.join(under ?? os.tmpdir(), prefix));
    fs.chmodSync(root, 0o755);
    return root;
}

/** A root filesystem folder assembled from files: `{ "/usr/local/bin/x": "/abs/src/x" }`, plus empty folders. */
export function rootfs(files: Record<string, string>, dirs: Record<string, number> = {}, under?: string): string {
    const root = layerRoot("gw-rootfs-", under);
    for (const [dst, src] of Object.entries(files)) {
        const target = path.join(root, dst);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.copyFileSync(src, target);
        fs.chmodSync(target, fs.statSync(src).mode & 0o777);
    }
    for (const [d, mode] of Object.entries(dirs)) {
        fs.mkdirSync(path.join(root, d), { recursive: true });
        fs.chmodSync(path.join(root, d), mode);
    }
    return root;
}

/** Unpacks Debian packages (.deb files) into one folder: the libraries and tools an image needs, from Debian's archive. */
export function debianRootfs(debs: string[], under?: string): string {
    const root = layerRoot("gw-debroot-", under);
    for (const d of debs) execFileSync("dpkg-deb", ["-x", d, root]);
    // Documentation, and libc6's iconv modules (8 MiB): no process in an image of ours converts character sets.
    for (const drop of ["usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/lintian", "usr/share/locale", "usr/lib/x86_64-linux-gnu/gconv"]) fs.rmSync(path.join(root, drop), { recursive: true, force: true });
    return root;
}

/**
 * A layout folder as one tar (`oci-archive:`, `ctr images import`, `groundwork seed`): the
 * layout's files at the tar's root, in name order, owner and time fixed — same layout, same bytes.
 */
export function writeArchive(layoutDir: string, tarFile: string): void {
    execFileSync("tar", ["--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner", "--format=gnu", "-C", layoutDir, "-cf", tarFile, "oci-layout", "index.json", "blobs"]);
}
