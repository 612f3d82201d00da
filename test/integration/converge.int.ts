// Convergence through the REAL Pulumi engine and groundwork's command plugin (issue 13, item 1):
// the converge command the platform gives every machine, against a loopback sshd that runs in a
// private mount namespace whose /var/lib, /usr/local and /run are scratch folders of this test, so
// the bootstrap it installs and runs as root lands there. The preview of a changed part, the up
// that converges it and the up that finds nothing to do are the engine's own answers.
import * as assert from "assert";
import { ChildProcess, spawn } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { freePort } from "../support/net";
import { pulumiProject, sshdConfig, sshKeys, tearDown, waitForPort } from "../support/sshd";
import { REPO, Run, sh } from "../support/sh";

const STACK = "converge";
const BOUND = ["/var/lib", "/usr/local", "/run"];

describe("convergence through the real engine: a changed bootstrap part previews as an in-place update and converges over SSH", function () {
    let work: string;
    let sshd: ChildProcess | undefined;
    let sshdLog = "";
    const timings: Record<string, number> = {};
    const scratch = (p: string) => path.join(work, "root", p);

    const pulumi = (args: string, allowFail = false): Run => {
        const r = sh(`source tools/toolchain/env.sh && pulumi ${args} --stack ${STACK} --cwd '${work}/program' --non-interactive`, {
            PULUMI_BACKEND_URL: `file://${work}/backend`,
            PULUMI_CONFIG_PASSPHRASE: "groundwork-converge-test",
        });
        if (r.code !== 0 && !allowFail) throw new Error(`pulumi ${args} failed (${r.code}):\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}\nsshd log:\n${sshdLog.slice(-2000)}`);
        return r;
    };

    before(async function () {
        this.timeout(3600_000);
        const deps = sh("bash tools/deps.sh sshd");
        assert.strictEqual(deps.code, 0, deps.stderr);
        const build = sh("bash tools/toolchain/build.sh cli nodejs command");
        assert.strictEqual(build.code, 0, `toolchain build failed:\n${build.stderr.slice(-3000)}`);
        work = fs.mkdtempSync(path.join(os.tmpdir(), "gw-converge-"));
        for (const d of ["ssh", "backend", "program", ...BOUND.map((b) => `root${b}`)]) fs.mkdirSync(path.join(work, d), { recursive: true });
        fs.mkdirSync(scratch("/run/sshd"), { recursive: true }); // sshd's privilege separation directory, inside the namespace
        const ssh = path.join(work, "ssh");
        const { clientKey } = sshKeys(ssh);
        const port = await freePort();
        const config = sshdConfig(ssh, "sshd_config", [`127.0.0.1:${port}`]);
        const mounts = BOUND.map((b) => `mount --bind '${scratch(b)}' '${b}'`).join(" && ");
        sshd = spawn("unshare", ["-m", "--propagation", "private", "bash", "-c", `${mounts} && exec /usr/sbin/sshd -D -e -f '${config}'`], { stdio: ["ignore", "ignore", "pipe"] });
        sshd.stderr?.on("data", (d) => {
            sshdLog += d.toString();
        });
        await waitForPort(port, sshd, 20);

        const source = fs.readFileSync(path.join(__dirname, "converge-program/index.ts"), "utf8").replace(/"\.\.\/\.\.\/\.\.\//g, `"${REPO}/`);
        pulumiProject(path.join(work, "program"), "converge", source);
        pulumi("stack init --secrets-provider passphrase");
        for (const [k, v] of Object.entries({ port: String(port), keyFile: clientKey, mirror: "a.example" })) pulumi(`config set ${k} '${v}'`);
    });

    after(function () {
        this.timeout(600_000);
        tearDown(work, sshd, () => pulumi("destroy --yes --skip-preview", true), timings);
    });

    it("pulumi up: the converge installs the bootstrap as root on the machine and runs it (nothing was applied before)", () => {
        const up = pulumi("up --yes --skip-preview");
        timings.create = up.seconds;
        assert.strictEqual(fs.readFileSync(scratch("/var/lib/gwtest/mirror.conf"), "utf8"), "mirror=a.example\n");
        const installed = fs.readFileSync(scratch("/usr/local/sbin/groundwork-bootstrap"), "utf8");
        assert.strictEqual(fs.readFileSync(scratch("/var/lib/groundwork/bootstrap.applied"), "utf8").trim(), createHash("sha256").update(installed).digest("hex"));
        assert.match(up.stdout, /converging to bootstrap [0-9a-f]{12} \(applied: none\)/);
        assert.strictEqual(fs.readFileSync(scratch("/var/lib/gwtest/runs"), "utf8"), "kubeadm part ran\n");
    });

    it("a changed part: the engine previews one in-place update whose diff names that part's digest, and up runs the new bootstrap once", () => {
        pulumi("config set mirror b.example");
        const preview = JSON.parse(pulumi("preview --json --diff").stdout) as { steps: { op: string; urn: string; detailedDiff?: Record<string, { kind: string }>; oldState?: { inputs: Record<string, any> }; newState?: { inputs: Record<string, any> } }[] };
        const changed = preview.steps.filter((s) => s.op !== "same");
        assert.deepStrictEqual(changed.map((s) => `${s.op} ${s.urn.split("::").pop()}`), ["update node-1-converge"]);
        const step = changed[0];
        const before = step.oldState!.inputs.environment as Record<string, string>;
        const after = step.newState!.inputs.environment as Record<string, string>;
        const differ = Object.keys(after).filter((k) => before[k] !== after[k]).sort();
        assert.deepStrictEqual(differ, ["GROUNDWORK_BOOTSTRAP", "GROUNDWORK_PART_ENGINE_CONFIG"]);
        // The text preview a reviewer reads shows the same key changing.
        const text = pulumi("preview --diff").stdout;
        process.stdout.write(text.split("\n").filter((l) => /converge|GROUNDWORK_|to update|unchanged/.test(l)).map((l) => `      | ${l}\n`).join(""));
        assert.match(text, /~ GROUNDWORK_PART_ENGINE_CONFIG\s*: "[0-9a-f]{12}" => "[0-9a-f]{12}"/);
        assert.doesNotMatch(text, /GROUNDWORK_PART_KUBEADM\s*:.*=>/);
        const up = pulumi("up --yes --skip-preview");
        timings.converge = up.seconds;
        assert.match(up.stdout, /converging to bootstrap [0-9a-f]{12} \(applied: [0-9a-f]{64}\)/);
        assert.match(up.stdout, /wrote \/var\/lib\/gwtest\/mirror\.conf/);
        assert.match(up.stdout, /bootstrap of node-1 done: 1 change\(s\)/);
        assert.strictEqual(fs.readFileSync(scratch("/var/lib/gwtest/mirror.conf"), "utf8"), "mirror=b.example\n");
        assert.strictEqual(fs.readFileSync(scratch("/var/lib/gwtest/runs"), "utf8"), "kubeadm part ran\nkubeadm part ran\n");
    });

    it("a second up has nothing to change, and the machine is left as it is", () => {
        const again = pulumi("up --yes --expect-no-changes", true);
        assert.strictEqual(again.code, 0, again.stdout.slice(-2000));
        assert.strictEqual(fs.readFileSync(scratch("/var/lib/gwtest/runs"), "utf8"), "kubeadm part ran\nkubeadm part ran\n");
    });
});
