/**
 * `groundwork seed` against a real registry (Debian's docker-registry, TLS + htpasswd) on
 * loopback: every image of a stack's bill of materials copied from an OCI layout to exactly the
 * paths the nodes pull from, resumable, digests checked, one clear line per bad input.
 */
import * as assert from "assert";
import { ChildProcess, execFileSync, spawn } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { CliResult, runCli as runCliPlain } from "../support/cli";
import { freePort } from "../support/net";
import { bcrypt, makeCa, serverCert } from "../support/pki";

/** The CLI in-process with the registry password variable set as given (and unset otherwise). */
async function runCli(argv: string[], env: Record<string, string> = {}): Promise<CliResult> {
    const saved = process.env.GROUNDWORK_REGISTRY_PASSWORD;
    delete process.env.GROUNDWORK_REGISTRY_PASSWORD;
    Object.assign(process.env, env);
    try {
        return await runCliPlain(argv);
    } finally {
        if (saved === undefined) delete process.env.GROUNDWORK_REGISTRY_PASSWORD;
        else process.env.GROUNDWORK_REGISTRY_PASSWORD = saved;
    }
}

const HOST = "registry.cdc.customer.example"; // the customer-dc stack's registry.hostname
const sha = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

/** An OCI layout holding one small image per name: a shared layer, a config naming the image. */
function writeLayout(dir: string, names: string[], salt = ""): Record<string, string> {
    fs.mkdirSync(path.join(dir, "blobs", "sha256"), { recursive: true });
    const put = (b: Buffer) => {
        const d = sha(b);
        fs.writeFileSync(path.join(dir, "blobs", "sha256", d.slice(7)), b);
        return d;
    };
    const src = fs.mkdtempSync(path.join(os.tmpdir(), "gw-layer-"));
    fs.writeFileSync(path.join(src, "hello.txt"), "hello from groundwork\n");
    const layer = execFileSync("tar", ["--sort=name", "--mtime=@0", "--owner=0", "--group=0", "-czf", "-", "-C", src, "hello.txt"]);
    fs.rmSync(src, { recursive: true });
    const layerDigest = put(layer);
    const digests: Record<string, string> = {};
    const manifests = names.map((name) => {
        const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", config: { Labels: { name, salt } }, rootfs: { type: "layers", diff_ids: [sha(execFileSync("gzip", ["-dc"], { input: layer }))] } }));
        const manifest = Buffer.from(
            JSON.stringify({
                schemaVersion: 2,
                mediaType: "application/vnd.oci.image.manifest.v1+json",
                config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: put(config), size: config.length },
                layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: layerDigest, size: layer.length }],
            }),
        );
        digests[name] = put(manifest);
        return { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: digests[name], size: manifest.length, annotations: { "io.containerd.image.name": name, "org.opencontainers.image.ref.name": name.split(":").pop() } };
    });
    fs.writeFileSync(path.join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    fs.writeFileSync(path.join(dir, "index.json"), JSON.stringify({ schemaVersion: 2, manifests }));
    return digests;
}

describe("registry: groundwork seed into a real registry on loopback", function () {
    this.timeout(120_000);
    let dir: string;
    let port: number;
    let registry: ChildProcess | undefined;
    let caFile: string;
    let images: string[];
    const password = "seed-test-password";
    const env = { GROUNDWORK_REGISTRY_PASSWORD: password };
    const seed = (...args: string[]) => runCli(["seed", "--stack", "customer-dc", "--ca", caFile, "--connect", `127.0.0.1:${port}`, ...args], env);

    /** What the registry holds at repo:tag (its digest), asked directly over the API with curl. */
    const held = (ref: string): string => {
        const [repo, tag] = [ref.slice(0, ref.lastIndexOf(":")), ref.slice(ref.lastIndexOf(":") + 1)];
        const headers = execFileSync("curl", ["-sS", "-I", "--cacert", caFile, "--resolve", `${HOST}:${port}:127.0.0.1`, "-u", `groundwork:${password}`, "-H", "Accept: application/vnd.oci.image.manifest.v1+json", `https://${HOST}:${port}/v2/${repo}/manifests/${tag}`]).toString();
        return /docker-content-digest: (\S+)/i.exec(headers)?.[1] ?? headers.split("\n")[0].trim();
    };

    before(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-seed-test-"));
        const ca = makeCa(dir, "seed test CA");
        serverCert(dir, ca, HOST);
        caFile = ca.certFile;
        const hash = bcrypt(password, 16);
        fs.writeFileSync(path.join(dir, "htpasswd"), `groundwork:${hash}\n`);
        port = await freePort();
        fs.writeFileSync(
            path.join(dir, "config.yml"),
            [
                "version: 0.1",
                "log: { level: error }",
                `storage: { filesystem: { rootdirectory: ${dir}/data }, delete: { enabled: true } }`,
                `http: { addr: "127.0.0.1:${port}", tls: { certificate: ${dir}/server.crt, key: ${dir}/server.key } }`,
                `auth: { htpasswd: { realm: seed-test, path: ${dir}/htpasswd } }`,
                "",
            ].join("\n"),
        );
        registry = spawn("/usr/bin/docker-registry", ["serve", path.join(dir, "config.yml")], { stdio: ["ignore", "ignore", "pipe"] });
        for (let i = 0; i < 100; i++) {
            const up = await new Promise<boolean>((r) => net.connect(port, "127.0.0.1").on("connect", function (this: net.Socket) { this.destroy(); r(true); }).on("error", () => r(false)));
            if (up) break;
            await new Promise((r) => setTimeout(r, 100));
        }
        images = JSON.parse((await runCli(["bom", "--stack", "customer-dc", "--json"])).stdout).images;
    });

    after(() => {
        if (registry?.pid !== undefined && registry.exitCode === null) registry.kill("SIGTERM");
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("refuses a missing archive, a wrong password and a missing password, one line each, exit 2", async () => {
        const missing = await seed("--from", path.join(dir, "nope.tar"));
        assert.strictEqual(missing.code, 2);
        assert.strictEqual(missing.stderr.trim(), `--from: ${path.join(dir, "nope.tar")}: no such file or folder`);
        const layout = path.join(dir, "empty-layout");
        writeLayout(layout, []);
        const wrong = await runCli(["seed", "--stack", "customer-dc", "--ca", caFile, "--connect", `127.0.0.1:${port}`, "--from", layout], { GROUNDWORK_REGISTRY_PASSWORD: "wrong" });
        assert.strictEqual(wrong.code, 2);
        assert.ok(wrong.stderr.includes(`registry ${HOST}:5000: user "groundwork" was refused (HTTP 401); check the user and password`), wrong.stderr);
        const nopass = await runCli(["seed", "--stack", "customer-dc", "--from", layout], {});
        assert.strictEqual(nopass.code, 2);
        assert.strictEqual(nopass.stderr.trim(), "registry password: set GROUNDWORK_REGISTRY_PASSWORD (or give --password-env VAR / --password-file FILE); it is never taken on the command line");
    });

    it("dry-run names the path of every image: CoreDNS at the upstream path kubeadm pulls under the air-gapped imageRepository", async () => {
        const layout = path.join(dir, "dry");
        writeLayout(layout, images);
        const r = await seed("--from", layout, "--dry-run");
        assert.strictEqual(r.code, 0, r.stderr);
        // Hand-checked against `kubeadm config images list` of customer-dc's init config (test/cluster/kubeadm-oracle.test.ts).
        assert.ok(r.stdout.includes(`  registry.k8s.io/coredns/coredns:v1.12.1 → ${HOST}:5000/coredns/coredns:v1.12.1\n`), r.stdout);
        assert.ok(r.stdout.includes(`  registry.k8s.io/etcd:3.5.21-0 → ${HOST}:5000/etcd:3.5.21-0\n`), r.stdout);
        assert.ok(r.stdout.includes(`  docker.io/library/busybox:1.37.0 → ${HOST}:5000/library/busybox:1.37.0\n`), r.stdout);
    });

    it("takes several archives (--from again): each image from the one that holds it; other flags given twice are refused", async () => {
        const quay = images.filter((i) => i.startsWith("quay.io/"));
        assert.ok(quay.length > 0 && quay.length < images.length, images.join(" "));
        const [a, b] = [path.join(dir, "arch-a"), path.join(dir, "arch-b")];
        writeLayout(a, images.filter((i) => !quay.includes(i)));
        writeLayout(b, quay);
        const both = await seed("--from", a, "--from", b, "--dry-run");
        assert.strictEqual(both.code, 0, both.stdout + both.stderr);
        assert.ok(both.stdout.includes(`from ${a}, ${b} (${images.length} images in 2 archives)`), both.stdout);
        assert.ok(!both.stdout.includes("(missing)"), both.stdout);
        const one = await seed("--from", a, "--dry-run");
        assert.strictEqual(one.code, 2);
        assert.strictEqual(one.stdout.split("\n").filter((l) => l.endsWith("(missing)")).length, quay.length, one.stdout);
        const twice = await seed("--from", a, "--ca", caFile, "--dry-run");
        assert.strictEqual(twice.code, 2);
        assert.strictEqual(twice.stderr.trim(), "groundwork seed: --ca is given twice; give it once");
    });

    it("copies every image, reports the one the archive lacks, and a re-run finishes the job without re-uploading", async () => {
        const lacking = images.find((i) => i.startsWith("quay.io/"))!;
        const partial = path.join(dir, "partial");
        writeLayout(partial, images.filter((i) => i !== lacking));
        const first = await seed("--from", partial);
        assert.strictEqual(first.code, 2, first.stdout + first.stderr);
        const lackingLines = first.stderr.split("\n").filter((l) => l.includes("not in"));
        assert.deepStrictEqual(lackingLines.map((l) => l.split(":")[0] + ":" + l.split(":")[1]), [`image ${lacking}`]);
                const paths = images.length; // one path per image
        assert.ok(first.stdout.includes(`seed: ${paths - 1} of ${paths} copies done`), first.stdout);

        const full = path.join(dir, "full.tar");
        const fullDir = path.join(dir, "full");
        const digests = writeLayout(fullDir, images);
        execFileSync("tar", ["-cf", full, "-C", fullDir, "."]);
        const second = await seed("--from", full);
        assert.strictEqual(second.code, 0, second.stdout + second.stderr);
        assert.ok(second.stdout.includes(`seed: ${paths} of ${paths} copies done`), second.stdout);
        assert.ok(second.stdout.includes(`${paths - 1} images unchanged`), second.stdout);
        assert.ok(second.stdout.includes("2 blobs uploaded"), second.stdout + second.stderr); // the lacking image's layer and config
        // The registry holds the archive's exact manifests at the paths nodes pull.
        const tag = (i: string) => i.slice(i.lastIndexOf(":") + 1);
        for (const i of images.slice(0, 3)) {
            const repoPath = i.replace(/^[^/]+\//, "");
            assert.strictEqual(held(repoPath), digests[i], i);
        }
        const coredns = images.find((i) => i.startsWith("registry.k8s.io/coredns/coredns:"))!;
        assert.strictEqual(held(`coredns/coredns:${tag(coredns)}`), digests[coredns]);
    });

    it("refuses a corrupt blob, naming its digest, and copies the rest", async () => {
        const bad = path.join(dir, "bad");
        const name = images[0];
        const digests = writeLayout(bad, [name, images[1]], "corrupt-case");
        const manifest = JSON.parse(fs.readFileSync(path.join(bad, "blobs", "sha256", digests[name].slice(7)), "utf8"));
        const cfg = manifest.config.digest as string;
        fs.appendFileSync(path.join(bad, "blobs", "sha256", cfg.slice(7)), "x");
        const r = await seed("--from", bad);
        assert.strictEqual(r.code, 2);
        assert.ok(r.stderr.includes(`blob ${cfg} is corrupt in the archive (its content hashes to sha256:`), r.stderr);
    });
});
