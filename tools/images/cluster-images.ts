/**
 * Every image a kubeadm cluster with kube-vip and flannel pulls, built here without an engine or
 * a registry: the Kubernetes binaries tools/kubernetes/build.sh makes from Go modules, on layers
 * unpacked from Debian packages where a program needs more than itself (iptables and conntrack
 * for kube-proxy and flannel, busybox's `cp` for flannel's init containers). Names and tags come
 * from components/cluster/versions.ts; the result is one OCI image layout and a tar of it under
 *   ${GROUNDWORK_CACHE:-~/.cache/groundwork}/kubernetes/images/<key>/{layout/,images.tar,images.json}
 * where the key hashes every input (binaries, Debian package versions, these scripts): an
 * unchanged key is reused as it is. `groundwork seed` copies the tar into a registry.
 *
 *   npx ts-node tools/images/cluster-images.ts [--kubernetes-version 1.33.13] [--only kube-proxy,etcd]
 */
import { spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as versions from "../../components/cluster/versions";
import { applyAlternatives, checkLinkage, debClosuresMemo, DebPin, downloadDebs } from "./debian";
import { debianRootfs, ImageConfig, LayoutWriter, rootfs, writeArchive } from "./oci";

/** Layers several images share, each built once: packed once, stored once. */
type SharedLayer = "base" | "netfilter" | "busybox";

interface Recipe {
    /** Shared layers under the image's own one, bottom first. */
    below: SharedLayer[];
    /** Path in the image → binary name in the build.sh bin folder. */
    files: Record<string, string>;
    config: ImageConfig;
}

const PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const inUsrLocalBin = (...names: string[]) => Object.fromEntries(names.map((n) => [`/usr/local/bin/${n}`, n]));
// kubeadm's static pods run the bare command (`kube-apiserver --…`, `etcd --…`): found on PATH.
const controlPlane = (name: string): Recipe => ({ below: ["base"], files: inUsrLocalBin(name), config: { Env: [PATH_ENV] } });

/**
 * One recipe per image repository (the name's last path segment), paths as upstream's images
 * have them. An image versions.ts lists without a recipe here is an error, never skipped.
 */
export const RECIPES: Record<string, Recipe> = {
    "kube-apiserver": controlPlane("kube-apiserver"),
    "kube-controller-manager": controlPlane("kube-controller-manager"),
    "kube-scheduler": controlPlane("kube-scheduler"),
    // iptables mode: kube-proxy runs iptables(-save/-restore) and conntrack from PATH.
    "kube-proxy": { below: ["base", "netfilter"], files: inUsrLocalBin("kube-proxy"), config: { Env: [PATH_ENV] } },
    etcd: { below: ["base"], files: inUsrLocalBin("etcd", "etcdctl"), config: { Env: [PATH_ENV] } },
    // Runs as root, not upstream's nonroot with a file capability: kubeadm's Deployment drops ALL
    // and adds NET_BIND_SERVICE, which a root process keeps for port 53 (our layers carry no xattrs).
    coredns: { below: ["base"], files: { "/coredns": "coredns" }, config: { Entrypoint: ["/coredns"], Env: [PATH_ENV] } },
    pause: { below: [], files: { "/pause": "pause" }, config: { Entrypoint: ["/pause"], User: "65535:65535" } },
    "kube-vip": { below: [], files: { "/kube-vip": "kube-vip" }, config: { Entrypoint: ["/kube-vip"] } },
    // flanneld masquerades with iptables; the manifest's install-cni init container runs `cp`.
    flannel: { below: ["base", "netfilter", "busybox"], files: { "/opt/bin/flanneld": "flanneld" }, config: { Entrypoint: ["/opt/bin/flanneld"], Env: [PATH_ENV] } },
    // The install-cni-plugin init container runs `cp -f /flannel /opt/cni/bin/flannel`.
    "flannel-cni-plugin": { below: ["base", "busybox"], files: { "/flannel": "flannel" }, config: { Cmd: ["/bin/sh"], Env: [PATH_ENV] } },
};

/** The Debian packages of a shared layer (apt adds their dependencies). */
const LAYER_PACKAGES: Record<Exclude<SharedLayer, "base">, string[]> = { netfilter: ["iptables", "conntrack"], busybox: ["busybox-static"] };
/** busybox applets linked in /bin: what the manifests run, and a shell. */
const BUSYBOX_APPLETS = ["cp", "sh"];

/** What each binary must print for the tag of the image it goes into: a mismatched build fails here, not on a node. */
const VERSION_PROBES: Record<string, { args: string[]; expect: (tag: string) => string }> = {
    ...Object.fromEntries(["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy"].map((b) => [b, { args: ["--version"], expect: (tag: string) => `Kubernetes ${tag}` }])),
    etcd: { args: ["--version"], expect: (tag) => `etcd Version: ${tag.replace(/-\d+$/, "")}` },
    coredns: { args: ["-version"], expect: (tag) => `CoreDNS-${tag.replace(/^v/, "")}` },
    flanneld: { args: ["--version"], expect: (tag) => tag },
    "kube-vip": { args: ["version"], expect: (tag) => tag },
    pause: { args: ["-v"], expect: (tag) => `pause.c v${tag}` },
};

export interface ClusterImagesOptions {
    /** Kubernetes version of the images. Defaults to what the built kube-apiserver prints. */
    kubernetesVersion?: string;
    /** Folder of the built binaries. Defaults to $GROUNDWORK_K8S_BIN, else the cache's kubernetes/bin. */
    binDir?: string;
    /** Where keyed results live. Defaults to ${GROUNDWORK_CACHE:-~/.cache/groundwork}/kubernetes/images. */
    cacheDir?: string;
    /** Only these repositories (e.g. `kube-proxy`, `etcd`). Defaults to every image. */
    only?: string[];
    /** Progress lines. Defaults to stderr. */
    log?: (line: string) => void;
}

export interface ClusterImage {
    name: string;
    /** The manifest's digest. */
    digest: string;
    /** Compressed bytes of the image's layers. */
    bytes: number;
}

export interface ClusterImages {
    key: string;
    /** The OCI image layout folder. */
    dir: string;
    /** The same layout as one tar. */
    tar: string;
    images: ClusterImage[];
    /** True when an earlier run's result was reused. */
    cached: boolean;
    seconds: number;
}

const HERE = __dirname;
const cacheRoot = () => process.env.GROUNDWORK_CACHE ?? path.join(os.homedir(), ".cache", "groundwork");
const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
const repositoryOf = (name: string) => name.replace(/:[^:/]+$/, "").split("/").pop() ?? name;
const tagOf = (name: string) => name.slice(name.lastIndexOf(":") + 1);

/**
 * build.sh's TABLE (or NEXT_TABLE, the upgrade target's rows): binary → the component (row) that
 * builds it. Rows: `name|builder|module|version|binaries[|stamps]`, a binary `name` or `name=path`.
 */
function buildComponents(table: "TABLE" | "NEXT_TABLE"): Map<string, string> {
    const script = fs.readFileSync(path.join(HERE, "..", "kubernetes", "build.sh"), "utf8");
    const block = new RegExp(`^${table}=\\(\n([\\s\\S]*?)^\\)$`, "m").exec(script)?.[1] ?? "";
    const out = new Map<string, string>();
    for (const m of block.matchAll(/^\s*"([^"]+)"\s*$/gm)) {
        const fields = m[1].split("|");
        if (fields.length < 5) continue;
        for (const b of fields[4].split(/\s+/).filter(Boolean)) out.set(b.split("=")[0], fields[0]);
    }
    return out;
}

/** One line per binary missing from `binDir`, naming the build.sh component that makes it (bin-next: the upgrade target's set). */
function missingBinaries(binDir: string, binaries: string[]): string[] {
    const next = path.basename(binDir) === "bin-next";
    const rows = buildComponents("TABLE");
    const nextRows = buildComponents("NEXT_TABLE");
    return binaries
        .filter((b) => !fs.existsSync(path.join(binDir, b)))
        .map((b) => {
            const row = (next ? nextRows.get(b) : undefined) ?? rows.get(b);
            const how = row ? `build it with tools/kubernetes/build.sh${next ? " --next" : ""} ${row}` : "no row of tools/kubernetes/build.sh's TABLE builds it yet";
            return `tools/images/cluster-images.ts: ${b} is missing from ${binDir}: ${how}`;
        });
}

/** The images of a Kubernetes version: kubeadm's (versions.ts), kube-vip, flannel and its CNI plugin. */
export function clusterImageNames(kubernetesVersion: string): string[] {
    const kubeadm = versions.kubeadmImages(kubernetesVersion);
    if (kubeadm.length === 0) throw new Error(`components/cluster/versions.ts has no pins for Kubernetes ${kubernetesVersion} (KUBERNETES_MINORS: ${Object.keys(versions.KUBERNETES_MINORS).join(", ")})`);
    return [...kubeadm, versions.KUBE_VIP_IMAGE, versions.FLANNEL_IMAGE, versions.FLANNEL_CNI_PLUGIN_IMAGE].sort();
}

function recipeOf(name: string): Recipe {
    const r = RECIPES[repositoryOf(name)];
    if (!r) throw new Error(`no recipe in tools/images/cluster-images.ts for ${name} (repository ${repositoryOf(name)})`);
    return r;
}

/** The cluster's images as an OCI layout and tar in the cache, built when its key is new. */
export async function ensureClusterImages(opts: ClusterImagesOptions = {}): Promise<ClusterImages> {
    const t0 = Date.now();
    const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
    const say = (msg: string) => log(`[images ${String(Math.round((Date.now() - t0) / 1000)).padStart(4)}s] ${msg}`);
    const binDir = opts.binDir ?? process.env.GROUNDWORK_K8S_BIN ?? path.join(cacheRoot(), "kubernetes", "bin");
    const cacheDir = opts.cacheDir ?? path.join(cacheRoot(), "kubernetes", "images");
    const wanted = (name: string) => opts.only === undefined || opts.only.includes(repositoryOf(name));
    for (const o of opts.only ?? []) if (!RECIPES[o]) throw new Error(`--only ${o}: not an image repository; known: ${Object.keys(RECIPES).join(", ")}`);

    // Every missing binary at once, before anything is built; kube-apiserver tells the version.
    const needed = Object.entries(RECIPES).filter(([repo]) => opts.only === undefined || opts.only.includes(repo)).flatMap(([, r]) => Object.values(r.files));
    const missing = missingBinaries(binDir, [...new Set([...needed, ...(opts.kubernetesVersion ? [] : ["kube-apiserver"])])]);
    if (missing.length > 0) throw new Error(missing.join("\n"));
    const version = versions.bareVersion(opts.kubernetesVersion ?? /Kubernetes v(\S+)/.exec(run(path.join(binDir, "kube-apiserver"), ["--version"]))?.[1] ?? fail("kube-apiserver --version printed no version"));
    const names = clusterImageNames(version).filter(wanted);
    const recipes = new Map(names.map((n) => [n, recipeOf(n)]));

    // The key: what each image is made of, byte for byte.
    const shared = [...new Set([...recipes.values()].flatMap((r) => r.below))].sort();
    const fromDebian = shared.filter((s): s is Exclude<SharedLayer, "base"> => s !== "base");
    const closures = debClosuresMemo(fromDebian.map((s) => LAYER_PACKAGES[s]), path.join(cacheDir, "debs", "closures.json"));
    const debs: Partial<Record<SharedLayer, DebPin[]>> = Object.fromEntries(fromDebian.map((s, i) => [s, closures[i]]));
    const binaries = [...new Set([...recipes.values()].flatMap((r) => Object.values(r.files)))].sort();
    const digests = Object.fromEntries(binaries.map((b) => [b, sha256(fs.readFileSync(path.join(binDir, b)))]));
    const scripts = ["cluster-images.ts", "debian.ts", "oci.ts"].map((f) => sha256(fs.readFileSync(path.join(HERE, f))));
    const key = sha256(JSON.stringify({ names, recipes: names.map((n) => recipes.get(n)), debs, digests, scripts, busybox: BUSYBOX_APPLETS })).slice(0, 16);
    const final = path.join(cacheDir, key);
    const result = (cached: boolean, images: ClusterImage[]): ClusterImages => ({ key, dir: path.join(final, "layout"), tar: path.join(final, "images.tar"), images, cached, seconds: (Date.now() - t0) / 1000 });

    const summaryFile = path.join(final, "images.json");
    if (fs.existsSync(summaryFile)) {
        const done = result(true, (JSON.parse(fs.readFileSync(summaryFile, "utf8")) as { images: ClusterImage[] }).images);
        say(`cached: ${final} (key ${key}, ${names.length} images)`);
        summary(done, say);
        return done;
    }

    say(`building ${names.length} images for Kubernetes v${version} into ${final} (key ${key})`);
    for (const b of binaries.filter((x) => VERSION_PROBES[x])) {
        const image = names.find((n) => Object.values(recipes.get(n)!.files).includes(b))!;
        const expected = VERSION_PROBES[b].expect(tagOf(image));
        const printed = run(path.join(binDir, b), VERSION_PROBES[b].args);
        if (!printed.includes(expected)) throw new Error(`${path.join(binDir, b)} is not the build ${image} needs: it prints "${printed.trim().split("\n")[0]}", expected "${expected}"`);
    }
    fs.mkdirSync(cacheDir, { recursive: true });
    const work = `${final}.tmp-${process.pid}`;
    fs.rmSync(work, { recursive: true, force: true });
    const layers = path.join(work, "layers");
    fs.mkdirSync(layers, { recursive: true });
    try {
        const folders: Partial<Record<SharedLayer, string>> = {};
        for (const s of shared) {
            folders[s] = sharedLayer(s, debs[s] ?? [], path.join(cacheDir, "debs"), layers);
            say(`layer ${s}${debs[s] ? `: ${debs[s]!.map((p) => `${p.name}=${p.version}`).join(" ")}` : ""}`);
        }
        const writer = new LayoutWriter(path.join(work, "layout"));
        const images: ClusterImage[] = [];
        for (const name of names) {
            const r = recipes.get(name)!;
            const own = rootfs(Object.fromEntries(Object.entries(r.files).map(([at, b]) => [at, path.join(binDir, b)])), {}, layers);
            const built = writer.add({ name, layers: [...r.below.map((s) => folders[s]!), own], config: r.config });
            images.push({ name, digest: built.manifestDigest, bytes: built.bytes });
            const n = r.below.length + 1;
            say(`${name}: ${n} layer${n === 1 ? "" : "s"}, ${mib(built.bytes)}`);
        }
        writer.finish();
        writeArchive(path.join(work, "layout"), path.join(work, "images.tar"));
        fs.rmSync(layers, { recursive: true, force: true });
        fs.writeFileSync(path.join(work, "images.json"), `${JSON.stringify({ key, kubernetesVersion: version, debs, binaries: digests, images }, null, 2)}\n`);
        if (fs.existsSync(summaryFile)) fs.rmSync(work, { recursive: true, force: true }); // another run finished the same key first
        else {
            fs.rmSync(final, { recursive: true, force: true });
            fs.renameSync(work, final);
        }
        // One result per cache: an older key's 300-odd MiB are never read again.
        for (const d of fs.readdirSync(cacheDir)) if (/^[0-9a-f]{16}$/.test(d) && d !== key) fs.rmSync(path.join(cacheDir, d), { recursive: true, force: true });
        const done = result(false, images);
        say(`done in ${Math.round(done.seconds)} s`);
        summary(done, say);
        return done;
    } catch (e) {
        fs.rmSync(work, { recursive: true, force: true });
        throw e;
    }
}

/** A shared layer's folder: a minimal /etc and scratch folders, or unpacked Debian packages. */
function sharedLayer(which: SharedLayer, pins: DebPin[], debCache: string, under: string): string {
    if (which === "base") {
        const root = rootfs({}, { "/tmp": 0o1777, "/run": 0o755, "/etc": 0o755 }, under);
        // Users as distroless has them: root, nobody, and nonroot (65532) for images that switch to it.
        fs.writeFileSync(path.join(root, "etc/passwd"), "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n");
        fs.writeFileSync(path.join(root, "etc/group"), "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n");
        return root;
    }
    const files = downloadDebs(pins, debCache);
    if (which === "busybox") {
        // The static program alone: the package's initramfs hooks have no use in an image.
        const unpacked = debianRootfs(files, under);
        const root = rootfs({ "/bin/busybox": path.join(unpacked, "bin", "busybox") }, {}, under);
        fs.rmSync(unpacked, { recursive: true, force: true });
        for (const a of BUSYBOX_APPLETS) fs.symlinkSync("busybox", path.join(root, "bin", a));
        return root;
    }
    const root = debianRootfs(files, under);
    // dpkg would run the postinst scripts: their update-alternatives links (iptables → iptables-nft).
    applyAlternatives(root, files);
    checkLinkage(root);
    return root;
}

/** A program's stdout and stderr (flanneld prints its version on stderr). */
function run(file: string, args: string[]): string {
    const r = spawnSync(file, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
    if (r.status !== 0) throw new Error(`${file} ${args.join(" ")} failed: ${r.stderr || r.error?.message || `exit ${r.status}`}`);
    return r.stdout + r.stderr;
}

function fail(message: string): never {
    throw new Error(message);
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** One line per image (name, manifest digest, compressed layers), then the archive's size. */
function summary(r: ClusterImages, say: (l: string) => void): void {
    const width = Math.max(...r.images.map((i) => i.name.length));
    for (const i of r.images) say(`  ${i.name.padEnd(width)}  ${i.digest}  ${mib(i.bytes).padStart(9)}`);
    say(`  ${r.images.length} images in ${r.tar}: ${mib(fs.statSync(r.tar).size)} (layers shared between images stored once)`);
}

if (require.main === module) {
    const args = process.argv.slice(2);
    const unknown = args.filter((a, i) => a.startsWith("-") && !["--kubernetes-version", "--only"].includes(a) && !["--kubernetes-version", "--only"].includes(args[i - 1]));
    if (unknown.length > 0) {
        process.stderr.write(`usage: cluster-images.ts [--kubernetes-version 1.33.13] [--only kube-proxy,etcd]; unknown: ${unknown.join(" ")}\n`);
        process.exit(2);
    }
    const value = (flag: string) => {
        const i = args.indexOf(flag);
        return i >= 0 ? args[i + 1] : undefined;
    };
    const only = value("--only")?.split(",").filter(Boolean);
    ensureClusterImages({ kubernetesVersion: value("--kubernetes-version"), only, log: (l) => process.stdout.write(`${l}\n`) }).then(
        (r) => process.stdout.write(`layout ${r.dir}\narchive ${r.tar}\n`),
        (e: Error) => {
            process.stderr.write(`${e.message}\n`);
            process.exit(1);
        },
    );
}
