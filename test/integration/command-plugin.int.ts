// groundwork's own command plugin (tools/toolchain/command) through the REAL Pulumi engine: a tiny
// program (command-program/index.ts) runs remote.Command against a loopback sshd this test starts
// and stops, and local.Command. Every claim is checked through the real effects: files on the
// "remote" side, the state export, the delete commands' traces.
import * as assert from "assert";
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { freePort } from "../support/net";
import { pulumiProject, sshdConfig, sshKeys, tearDown, waitForPort } from "../support/sshd";
import { Run, sh } from "../support/sh";

const STACK = "cmdtest";
const TOKEN = "tok-7f3a9c21e5d84b06"; // the secret the program passes on stdin




describe("command plugin: @pulumi/command through the real engine, against a loopback sshd", function () {
    let work: string;
    let remoteDir: string;
    let localDir: string;
    let sshd: ChildProcess | undefined;
    let sshdLog = "";
    const timings: Record<string, number> = {};
    const read = (file: string) => fs.readFileSync(path.join(remoteDir, file), "utf8");

    const pulumi = (args: string, allowFail = false, echo = false): Run => {
        const r = sh(`source tools/toolchain/env.sh && pulumi ${args} --stack ${STACK} --cwd '${work}/program' --non-interactive`, {
            PULUMI_BACKEND_URL: `file://${work}/backend`,
            PULUMI_CONFIG_PASSPHRASE: "groundwork-command-test",
        }, { echo: echo ? "all" : undefined });
        if (r.code !== 0 && !allowFail) throw new Error(`pulumi ${args} failed (${r.code}):\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}\nsshd log:\n${sshdLog.slice(-2000)}`);
        return r;
    };
    const outputs = (): Record<string, unknown> => JSON.parse(pulumi("stack output --json --show-secrets").stdout);
    const previewOps = (): string[] => {
        const out = JSON.parse(pulumi("preview --json").stdout) as { steps: { op: string; urn: string }[] };
        return out.steps.filter((s) => s.op !== "same").map((s) => `${s.op} ${s.urn.split("::").pop()}`).sort();
    };

    before(async function () {
        this.timeout(3600_000);
        const deps = sh("bash tools/deps.sh sshd");
        assert.strictEqual(deps.code, 0, deps.stderr);
        const build = sh("bash tools/toolchain/build.sh cli nodejs command", {}, { echo: "all" });
        assert.strictEqual(build.code, 0, `toolchain build failed:\n${build.stderr.slice(-3000)}`);
        timings.toolchain = build.seconds;

        work = fs.mkdtempSync(path.join(os.tmpdir(), "gw-cmd-"));
        remoteDir = path.join(work, "remote");
        localDir = path.join(work, "local");
        for (const d of ["remote", "local", "ssh", "backend", "program"]) fs.mkdirSync(path.join(work, d));
        const ssh = path.join(work, "ssh");
        sshKeys(ssh);
        const port = await freePort();
        sshdConfig(ssh, "sshd_config", [`127.0.0.1:${port}`]);
        sshd = spawn("/usr/sbin/sshd", ["-D", "-e", "-f", path.join(ssh, "sshd_config")], { stdio: ["ignore", "ignore", "pipe"] });
        sshd.stderr?.on("data", (d) => { sshdLog += d.toString(); });
        await waitForPort(port, sshd, 20);

        pulumiProject(path.join(work, "program"), "cmdtest", fs.readFileSync(path.join(__dirname, "command-program/index.ts"), "utf8"));
        pulumi("stack init --secrets-provider passphrase");
        const user = os.userInfo().username;
        for (const [k, v] of Object.entries({ remoteDir, localDir, port: String(port), user, keyFile: `${ssh}/client`, trigger: "one" })) {
            pulumi(`config set ${k} '${v}'`);
        }
        pulumi(`config set --secret token '${TOKEN}'`);
    });

    after(function () {
        this.timeout(600_000);
        tearDown(work, sshd, () => pulumi("destroy --yes --skip-preview", true), timings);
    });

    it("the schema the engine gets from the plugin (pulumi package get-schema) matches what @pulumi/command sends", () => {
        const file = path.join(work, "schema.json");
        const got = sh(`source tools/toolchain/env.sh && pulumi package get-schema "$GROUNDWORK_PULUMI_DIR/bin/command-1.2.1/pulumi-resource-command" > '${file}'`);
        assert.strictEqual(got.code, 0, got.stderr);
        const check = sh(`bash tools/toolchain/command/check-schema.sh '${file}'`);
        assert.strictEqual(check.code, 0, check.stdout + check.stderr);
        assert.match(check.stdout, /^schema check ok: .* 0 problems$/m);
    });

    it("a bad input fails the preview with one message naming the property", () => {
        pulumi("config set logging loud");
        const bad = pulumi("preview", true);
        pulumi("config rm logging");
        assert.notStrictEqual(bad.code, 0);
        assert.match(bad.stdout + bad.stderr, /logging: must be one of stdout, stderr, stdoutAndStderr, none, got "loud"/);
    });

    it("pulumi up runs the create commands: files on the remote side, stdout, environment, local.Command", () => {
        const up = pulumi("up --yes --skip-preview", false, true);
        timings.up = up.seconds;
        assert.strictEqual(read("file-one.txt"), "hello-one"); // stdin, byte for byte
        assert.strictEqual(read("secret.txt"), TOKEN);
        assert.strictEqual(read("env.txt"), "it's me");
        assert.strictEqual(fs.readFileSync(path.join(localDir, "local-one.txt"), "utf8"), "local-one\n");
        const out = outputs();
        assert.deepStrictEqual(out, {
            writeStdout: "created hello-one",
            secretStdout: TOKEN,
            envStdout: `it's me from ${os.userInfo().username}`,
            localStdout: `${localDir}\ncreated hello-one`, // pwd, then stdin (the remote command's stdout)
        });
    });

    it("pulumi stack export holds the secret output encrypted and no secret in clear", () => {
        const text = pulumi("stack export").stdout;
        const state = JSON.parse(text) as { deployment: { resources: { urn: string; outputs?: Record<string, unknown> }[] } };
        const res = (name: string) => state.deployment.resources.find((r) => r.urn.endsWith(`::${name}`));
        const secretOut = res("secret")?.outputs?.stdout as Record<string, unknown>;
        assert.strictEqual(secretOut["4dabf18193072939515e22adb298388d"], "1b47061264138c4ac30d75fd1eb44270");
        assert.strictEqual(typeof secretOut.ciphertext, "string");
        assert.ok(!text.includes(TOKEN), "the token is in the state in clear");
        const keyBody = fs.readFileSync(path.join(work, "ssh/client"), "utf8").split("\n")[1];
        assert.ok(keyBody.length > 40 && !text.includes(keyBody), "the private key is in the state in clear");
        // A command without secret inputs keeps a plain stdout (the connection's secret does not spread).
        assert.strictEqual(res("write")?.outputs?.stdout, "created hello-one");
    });

    it("a second up changes nothing; a new trigger replaces exactly the resources that list it", () => {
        const again = pulumi("up --yes --expect-no-changes", true);
        assert.strictEqual(again.code, 0, again.stdout.slice(-2000));
        pulumi("config set trigger two");
        assert.deepStrictEqual(previewOps(), ["replace here", "replace write"]);
        const up = pulumi("up --yes --skip-preview", false, true);
        timings.replace = up.seconds;
        assert.strictEqual(read("file-two.txt"), "hello-two");
        assert.ok(!fs.existsSync(path.join(remoteDir, "file-one.txt")), "the old resource's delete command did not run");
        assert.strictEqual(read("deleted.log"), "deleted one\n");
        assert.deepStrictEqual(fs.readdirSync(localDir), ["local-two.txt"]);
        assert.strictEqual(outputs().localStdout, `${localDir}\ncreated hello-two`);
    });

    it("pulumi destroy runs the delete commands", () => {
        const down = pulumi("destroy --yes --skip-preview", false, true);
        timings.destroy = down.seconds;
        assert.strictEqual(read("deleted.log"), "deleted one\ndeleted two\n");
        assert.deepStrictEqual(fs.readdirSync(remoteDir).sort(), ["deleted.log", "env.txt", "secret.txt"]); // no delete command for those
        assert.deepStrictEqual(fs.readdirSync(localDir), []);
    });

    it("connection.proxy: a host only a jump host can reach (inside a network namespace) is reached through it; without the proxy the same address is refused", async function () {
        // A namespace with a veth pair: the host sees only 10.234.77.2 (the bastion's port); the
        // target sshd listens on the namespace's own loopback, which the host cannot reach.
        const ns = `gw-bastion-${process.pid}`;
        const [hostIf, nsIf] = [`gwb${process.pid % 100000}a`, `gwb${process.pid % 100000}b`];
        const setup = sh([
            `ip netns add ${ns}`,
            `ip link add ${hostIf} type veth peer name ${nsIf}`,
            `ip link set ${nsIf} netns ${ns}`,
            `ip addr add 10.234.77.1/30 dev ${hostIf} && ip link set ${hostIf} up`,
            `ip netns exec ${ns} ip addr add 10.234.77.2/30 dev ${nsIf}`,
            `ip netns exec ${ns} ip link set ${nsIf} up && ip netns exec ${ns} ip link set lo up`,
        ].join(" && "));
        assert.strictEqual(setup.code, 0, setup.stderr);
        const ssh = path.join(work, "ssh");
        const behindDir = path.join(work, "behind");
        fs.mkdirSync(behindDir);
        const [bastionPort, behindPort] = [await freePort(), await freePort()];
        const nsConfig = sshdConfig(ssh, "sshd_ns_config", [`10.234.77.2:${bastionPort}`, `127.0.0.1:${behindPort}`], ["AllowTcpForwarding yes"]);
        const inner = spawn("ip", ["netns", "exec", ns, "/usr/sbin/sshd", "-D", "-e", "-f", nsConfig], { stdio: ["ignore", "ignore", "pipe"] });
        let innerLog = "";
        inner.stderr?.on("data", (d) => { innerLog += d.toString(); });
        try {
            await waitForPort(bastionPort, inner, 20, "10.234.77.2");
            for (const [k, v] of Object.entries({ bastionHost: "10.234.77.2", bastionPort: String(bastionPort), behindPort: String(behindPort), behindDir })) pulumi(`config set ${k} '${v}'`);
            const up = pulumi("up --yes --skip-preview", true);
            assert.strictEqual(up.code, 0, up.stdout.slice(-2000) + innerLog.slice(-1500));
            // sshd saw the session come from its own loopback (the bastion's direct-tcpip), to the namespace's 127.0.0.1.
            assert.match(fs.readFileSync(path.join(behindDir, "via-bastion.txt"), "utf8"), new RegExp(`^127\\.0\\.0\\.1 \\d+ 127\\.0\\.0\\.1 ${behindPort}\n$`));
            // The same address without the proxy is the host's own loopback, where nothing listens.
            const direct = sh(`timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/${behindPort}'`);
            assert.notStrictEqual(direct.code, 0, "the target must not be reachable without the bastion");
            pulumi("destroy --yes --skip-preview --target 'urn:pulumi:cmdtest::cmdtest::command:remote:Command::via-bastion'", true);
            for (const k of ["bastionHost", "bastionPort", "behindPort", "behindDir"]) pulumi(`config rm ${k}`);
        } finally {
            if (inner.pid !== undefined && inner.exitCode === null) process.kill(inner.pid, "SIGTERM");
            sh(`ip link del ${hostIf} 2>/dev/null; ip netns del ${ns}`);
        }
    });

    it("connection failures end the create with the reason: dialErrorLimit spent on a closed port, a wrong hostKey; a failed command with a secret input shows its reason with the secret redacted", async () => {
        pulumi(`config set closedPort ${await freePort()}`);
        pulumi(`config set wrongHostKey '${fs.readFileSync(path.join(work, "ssh/client.pub"), "utf8").trim()}'`);
        pulumi("config set failures true");
        const up = pulumi("up --yes --skip-preview", true);
        const text = up.stdout + up.stderr;
        assert.notStrictEqual(up.code, 0);
        assert.match(text, /connecting to 127\.0\.0\.1:\d+ as \w+ failed 2 times \(dialErrorLimit\): .*connection refused/);
        assert.match(text, /connecting to 127\.0\.0\.1:\d+ as \w+ failed 1 times \(dialErrorLimit\): .*host key mismatch/);
        assert.ok(!fs.existsSync(path.join(remoteDir, "never.txt")), "a command ran on a host with the wrong key");
        assert.match(text, /local command failed: exit status 3 \(secret input values shown as \[secret\]\)/);
        assert.match(text, /drain n1 failed: a PodDisruptionBudget refuses evicting web-1 \(token \[secret\]\)/);
        assert.ok(!text.includes(TOKEN), "the secret's value in the error");
        assert.match(text, /remote command on 127\.0\.0\.1 failed: exit status 4\b/);
        assert.match(text, new RegExp(`refused on ${os.userInfo().username} at 127\\.0\\.0\\.1 \\d+ 127\\.0\\.0\\.1 \\d+`));
    });
});
