/**
 * Convergence (issue 13, item 1): the converge command every machine gets over SSH, run for real
 * by bash as root (the remote command string itself, its bootstrap on stdin) in a private mount
 * namespace whose /var/lib, /usr/local and /run are scratch folders: the applied digest, the
 * installed bootstrap and the first-boot marker live there. Oracles: `sha256sum` and the files the
 * bootstrap writes.
 */
import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { APPLIED_DIGEST_PATH, BOOTSTRAP_PATH, BootstrapPart, partDigests, renderPartsScript } from "../../components/engine/bootstrap";
import { CONVERGE_COMMAND, CONVERGE_SCRIPT, convergeEnvironment } from "../../components/machines/converge";

const BOUND = ["/var/lib", "/usr/local", "/run"];

function sha256sum(text: string): string {
    return execFileSync("sha256sum", { input: text }).toString().split(" ")[0];
}

/** A bootstrap of one part that writes /var/lib/gwtest/app.conf (and runs `extra` after). */
function bootstrapOf(content: string, extra = ""): string {
    const part: BootstrapPart = { name: "app", files: [{ path: "/var/lib/gwtest/app.conf", content }], script: `echo "app ran" >> /var/lib/gwtest/runs\n${extra}` };
    return renderPartsScript("node-1", [part]);
}

function sandbox() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-converge-"));
    for (const b of BOUND) fs.mkdirSync(path.join(dir, "root", b), { recursive: true });
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    const at = (p: string) => path.join(dir, "root", p);
    return {
        at,
        bin,
        read: (p: string) => fs.readFileSync(at(p), "utf8"),
        /** Runs CONVERGE_COMMAND (what remote.Command runs) as root with `script` on stdin. */
        converge(script: string): { status: number | null; output: string } {
            const mounts = BOUND.map((b) => `mount --bind '${at(b)}' '${b}'`).join("\n");
            const r = spawnSync("unshare", ["-m", "--propagation", "private", "bash", "-c", `set -e\n${mounts}\n${CONVERGE_COMMAND}`], {
                encoding: "utf8",
                input: script,
                env: { PATH: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin`, GW_LOG: path.join(dir, "calls.log") },
                timeout: 60_000,
            });
            return { status: r.status, output: r.stdout + r.stderr };
        },
        cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
    };
}

describe("machines: convergence over SSH (the converge script)", function () {
    this.timeout(120_000);

    it("passes shellcheck", () => {
        const r = spawnSync("shellcheck", ["-s", "bash", "-"], { input: CONVERGE_SCRIPT, encoding: "utf8" });
        assert.strictEqual(r.status, 0, r.stdout + r.stderr);
    });

    it("runs a new bootstrap once, skips it when applied, runs a changed one, and retries one that failed", () => {
        const box = sandbox();
        try {
            const a = bootstrapOf("mirror=a\n");
            // 1. A fresh host: the script is installed at BOOTSTRAP_PATH and run from there.
            let r = box.converge(a);
            assert.strictEqual(r.status, 0, r.output);
            assert.match(r.output, new RegExp(`converging to bootstrap ${sha256sum(a).slice(0, 12)} \\(applied: none\\)`));
            assert.match(r.output, /bootstrap of node-1 done: 1 change\(s\)/); // app.conf
            assert.strictEqual(box.read(BOOTSTRAP_PATH), a);
            assert.strictEqual((fs.statSync(box.at(BOOTSTRAP_PATH)).mode & 0o777).toString(8), "700");
            assert.strictEqual(box.read(APPLIED_DIGEST_PATH).trim(), sha256sum(a));
            assert.strictEqual(box.read("/var/lib/gwtest/app.conf"), "mirror=a\n");

            // 2. The same script again: nothing runs (the part's run log keeps one line).
            r = box.converge(a);
            assert.strictEqual(r.status, 0, r.output);
            assert.match(r.output, new RegExp(`bootstrap ${sha256sum(a).slice(0, 12)} is applied; nothing to converge`));
            assert.doesNotMatch(r.output, /bootstrap of node-1 starting/);
            assert.strictEqual(box.read("/var/lib/gwtest/runs"), "app ran\n");

            // 3. A changed script: it runs; only the changed file is written.
            const b = bootstrapOf("mirror=b\n");
            r = box.converge(b);
            assert.strictEqual(r.status, 0, r.output);
            assert.match(r.output, new RegExp(`converging to bootstrap ${sha256sum(b).slice(0, 12)} \\(applied: ${sha256sum(a)}\\)`));
            assert.match(r.output, /wrote \/var\/lib\/gwtest\/app\.conf/);
            assert.strictEqual(box.read("/var/lib/gwtest/app.conf"), "mirror=b\n");
            assert.strictEqual(box.read(APPLIED_DIGEST_PATH).trim(), sha256sum(b));

            // 4. A script that fails: the command fails, nothing is recorded as applied, and the next converge runs it again.
            const c = bootstrapOf("mirror=c\n", "exit 3");
            r = box.converge(c);
            assert.strictEqual(r.status, 3, r.output);
            assert.strictEqual(box.read(APPLIED_DIGEST_PATH).trim(), sha256sum(b));
            r = box.converge(c);
            assert.strictEqual(r.status, 3, r.output);
            assert.match(r.output, /converging to bootstrap/);
            assert.strictEqual(box.read("/var/lib/gwtest/runs"), "app ran\n".repeat(4));

            // 5. Nothing on stdin: refused, nothing installed.
            r = box.converge("");
            assert.strictEqual(r.status, 2, r.output);
            assert.match(r.output, /no bootstrap script on stdin/);
            assert.strictEqual(box.read(BOOTSTRAP_PATH), c);
        } finally {
            box.cleanup();
        }
    });

    it("waits for the first boot (cloud-init) first, and runs the bootstrap again when it ended in an error", () => {
        const box = sandbox();
        try {
            const a = bootstrapOf("mirror=a\n");
            fs.mkdirSync(box.at("/run/cloud-init"));
            fs.writeFileSync(path.join(box.bin, "cloud-init"), `#!/bin/bash\necho "cloud-init $*" >> "$GW_LOG"\nexit "$(cat ${box.at("/run/cloud-init/rc")})"\n`, { mode: 0o755 });
            fs.writeFileSync(box.at("/run/cloud-init/rc"), "0");
            let r = box.converge(a);
            assert.strictEqual(r.status, 0, r.output);
            assert.match(r.output, /waiting for the first boot \(cloud-init\) to finish/);
            assert.strictEqual(fs.readFileSync(path.join(path.dirname(box.bin), "calls.log"), "utf8"), "cloud-init status --wait\n");
            // Applied now: a second converge (after a first boot that ended well) finds it so.
            r = box.converge(a);
            assert.match(r.output, /is applied; nothing to converge/);
            // A first boot that ended in an error: said, and the bootstrap runs (it is idempotent).
            fs.writeFileSync(box.at("/run/cloud-init/rc"), "1");
            fs.rmSync(box.at(APPLIED_DIGEST_PATH));
            r = box.converge(a);
            assert.strictEqual(r.status, 0, r.output);
            assert.match(r.output, /the first boot ended in an error \(cloud-init status --long\); the bootstrap runs again/);
            assert.match(r.output, /bootstrap of node-1 done: 0 change\(s\)/);
        } finally {
            box.cleanup();
        }
    });

    it("names the digest's inputs part by part, so a preview shows which part changed", () => {
        const identity = { hostname: "node-1", sshUser: "groundwork", sshAuthorizedKeys: ["ssh-ed25519 AAAAC3 op"] };
        const part = (content: string): BootstrapPart => ({ name: "engine/containerd", files: [{ path: "/etc/containerd/config.toml", content }], script: "" });
        const other: BootstrapPart = { name: "kubernetes", files: [], script: "true" };
        const before = partDigests(identity, [part("a = 1\n"), other]);
        const after = partDigests(identity, [part("a = 2\n"), other]);
        assert.deepStrictEqual(Object.keys(before), ["identity", "engine/containerd", "kubernetes"]);
        const changed = Object.keys(before).filter((k) => before[k] !== after[k]);
        assert.deepStrictEqual(changed, ["engine/containerd"]);
        // The environment the converge command shows: names made of the part names, 12 hex digits each.
        const env = convergeEnvironment("#!/bin/bash\n", after);
        assert.deepStrictEqual(Object.keys(env), ["GROUNDWORK_BOOTSTRAP", "GROUNDWORK_PART_IDENTITY", "GROUNDWORK_PART_ENGINE_CONTAINERD", "GROUNDWORK_PART_KUBERNETES"]);
        assert.strictEqual(env.GROUNDWORK_BOOTSTRAP, sha256sum("#!/bin/bash\n").slice(0, 12));
        for (const v of Object.values(env)) assert.match(v, /^[0-9a-f]{12}$/);
    });
});
