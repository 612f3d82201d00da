/**
 * The engine-less image builder, checked by skopeo (containers/image reads the layout, verifies
 * every digest while copying, and reports the config) and by recomputing digests with the
 * system's tools.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LayoutWriter, rootfs, writeArchive } from "../../tools/images/oci";

const skopeo = (...args: string[]) => execFileSync("skopeo", ["--insecure-policy", ...args], { stdio: ["ignore", "pipe", "pipe"] }).toString();

describe("images: OCI layouts built without an engine", () => {
    let dir: string;
    let built: ReturnType<LayoutWriter["add"]>[];
    let bin: string;

    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-oci-test-"));
        bin = path.join(dir, "hello.sh");
        fs.writeFileSync(bin, "#!/bin/sh\necho hello\n", { mode: 0o755 });
        const shared = rootfs({ "/usr/local/bin/hello": bin }, { "/tmp": 0o1777 }, dir);
        const extra = rootfs({ "/etc/groundwork/extra": bin }, {}, dir);
        const w = new LayoutWriter(path.join(dir, "layout"));
        built = [
            w.add({ name: "registry.k8s.io/pause:3.10", layers: [shared], config: { Entrypoint: ["/usr/local/bin/hello"], User: "65535:65535" } }),
            w.add({ name: "docker.io/flannel/flannel:v0.28.4", layers: [shared, extra], config: { Entrypoint: ["/usr/local/bin/hello"], Env: ["PATH=/usr/local/bin"] } }),
        ];
        w.finish();
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("skopeo copies each image by its full name (verifying every digest) and reads back its config", () => {
        for (const b of built) {
            const out = path.join(dir, `copy-${b.name.replace(/[/:]/g, "_")}`);
            skopeo("copy", `oci:${path.join(dir, "layout")}:${b.name}`, `dir:${out}`);
            assert.ok(fs.existsSync(path.join(out, "manifest.json")));
        }
        const cfg = JSON.parse(skopeo("inspect", "--config", `oci:${path.join(dir, "layout")}:registry.k8s.io/pause:3.10`));
        assert.deepStrictEqual(cfg.config.Entrypoint, ["/usr/local/bin/hello"]);
        assert.strictEqual(cfg.config.User, "65535:65535");
        const raw = JSON.parse(skopeo("inspect", "--raw", `oci:${path.join(dir, "layout")}:docker.io/flannel/flannel:v0.28.4`));
        assert.strictEqual(raw.layers.length, 2);
    });

    it("a layer's diff id is the sha256 of its uncompressed tar, which holds the files with their modes and fixed owner/time", () => {
        const raw = JSON.parse(skopeo("inspect", "--raw", `oci:${path.join(dir, "layout")}:registry.k8s.io/pause:3.10`));
        const cfg = JSON.parse(skopeo("inspect", "--config", `oci:${path.join(dir, "layout")}:registry.k8s.io/pause:3.10`));
        const blob = path.join(dir, "layout", "blobs", "sha256", raw.layers[0].digest.slice(7));
        const tar = execFileSync("gzip", ["-dc", blob]);
        const viaShell = execFileSync("sha256sum", { input: tar }).toString().split(" ")[0];
        assert.strictEqual(cfg.rootfs.diff_ids[0], `sha256:${viaShell}`);
        const listing = execFileSync("tar", ["-tvf", "-"], { input: tar }).toString();
        assert.match(listing, /^-rwxr-xr-x 0\/0 +\d+ 1970-01-01 00:00 \.\/usr\/local\/bin\/hello$/m);
        assert.match(listing, /^drwxrwxrwt 0\/0 +0 1970-01-01 00:00 \.\/tmp\/$/m);
        // The layer's root is `/` in the container: readable by the non-root users images run as.
        assert.match(listing, /^drwxr-xr-x 0\/0 +0 1970-01-01 00:00 \.\/$/m);
    });

    it("the shared folder is one blob used by both images", () => {
        const a = JSON.parse(skopeo("inspect", "--raw", `oci:${path.join(dir, "layout")}:registry.k8s.io/pause:3.10`));
        const b = JSON.parse(skopeo("inspect", "--raw", `oci:${path.join(dir, "layout")}:docker.io/flannel/flannel:v0.28.4`));
        assert.strictEqual(a.layers[0].digest, b.layers[0].digest);
        // the shared layer once + the extra layer + 2 configs + 2 manifests
        assert.strictEqual(fs.readdirSync(path.join(dir, "layout", "blobs", "sha256")).length, 6);
    });

    it("the archive of a layout is read by skopeo (oci-archive:) and is the same bytes when written again", () => {
        const a = path.join(dir, "a.tar");
        const b = path.join(dir, "b.tar");
        writeArchive(path.join(dir, "layout"), a);
        fs.utimesSync(path.join(dir, "layout", "index.json"), new Date(), new Date());
        writeArchive(path.join(dir, "layout"), b);
        const sha = (f: string) => execFileSync("sha256sum", [f]).toString().split(" ")[0];
        assert.strictEqual(sha(a), sha(b));
        // The layout's files at the tar's root, nothing else (no `./` prefix, no stray folder).
        const entries = execFileSync("tar", ["-tf", a]).toString().trim().split("\n");
        assert.ok(entries.includes("index.json") && entries.includes("oci-layout"), entries.join(" "));
        for (const e of entries) assert.match(e, /^(oci-layout|index\.json|blobs\/|blobs\/sha256\/|blobs\/sha256\/[0-9a-f]{64})$/);
        const viaArchive = JSON.parse(skopeo("inspect", `oci-archive:${a}:registry.k8s.io/pause:3.10`));
        const viaLayout = JSON.parse(skopeo("inspect", `oci:${path.join(dir, "layout")}:registry.k8s.io/pause:3.10`));
        assert.strictEqual(viaArchive.Digest, viaLayout.Digest);
        assert.strictEqual(viaArchive.Architecture, "amd64");
    });
});
