// Real guests behind the local OpenStack. `tools/openstack/local.sh start --guests` runs Nova's
// libvirt driver (qemu TCG) as its one compute host, Glance serving the project's Debian image
// (tools/guest/image.sh) and Neutron binding ports into a host bridge per network whose address is
// the subnet's gateway. The REAL Pulumi engine brings the local stack's layers up to the engine on
// it; each machine boots, takes its planned address by DHCP (the launcher's dnsmasq in place of
// Neutron's agent), reads the config drive and runs the rendered
// bootstrap on first boot: the container engine from an apt mirror the host serves on the bridge
// (the guests reach nothing else). Checked through the OpenStack API, libvirt and SSH into the guests.
import * as assert from "assert";
import { ChildProcess, spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { DEFAULT_ENGINE_PACKAGES } from "../../components/engine/config";
import { freePort } from "../support/net";
import { localOpenStackEnv, OpenStackApi } from "../support/openstack-api";
import { REPO, Run, sh, shAsync } from "../support/sh";

const NAME = "gwg";
const STACK = "gwg";
/** The local stack's plan (stacks/Pulumi.local.yaml): the first address of each pool, and the gateway the host bridge carries. */
const MACHINES: [string, string][] = [
    [`${NAME}-cp-1`, "10.42.0.16"],
    [`${NAME}-general-1`, "10.42.0.32"],
];
const GATEWAY = "10.42.0.1";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("local OpenStack with real guests: Nova's libvirt driver runs the program's machines", function () {
    let state: string;
    let workDir: string;
    let keyFile: string;
    let api: OpenStackApi;
    let mirror: ChildProcess | undefined;
    let mirrorLog = "";
    let started = false;
    let destroyed = false;
    let stopped = false;
    const timings: Record<string, number | string> = {};

    const launcher = (args: string) => `bash tools/openstack/local.sh --state '${state}' ${args}`;
    const pulumiLine = (args: string) =>
        `source tools/toolchain/env.sh && eval "$(${launcher("env")})" && pulumi ${args} --stack ${STACK} --cwd '${workDir}' --non-interactive`;
    const pulumiEnv = () => ({ PULUMI_BACKEND_URL: `file://${workDir}/backend`, PULUMI_CONFIG_PASSPHRASE: "groundwork-local" });
    const pulumi = (args: string, echo = false): Run => {
        const r = sh(pulumiLine(args), pulumiEnv(), { echo: echo ? "stdout" : undefined });
        if (r.code !== 0) throw new Error(`pulumi ${args} failed (${r.code}):\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
        return r;
    };
    const virsh = (args: string) => sh(`virsh -c 'qemu+unix:///system?socket=${state}/data/libvirt/run/libvirt-sock' ${args}`);
    const ssh = (ip: string, command: string) =>
        shAsync(`ssh -i '${keyFile}' -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=10 -o LogLevel=ERROR groundwork@${ip} '${command.replace(/'/g, `'\\''`)}'`);

    before(function () {
        this.timeout(3600_000);
        state = fs.mkdtempSync(path.join(os.tmpdir(), "gw-os-guests-"));
        workDir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-guests-stack-"));
        const tools = sh("bash tools/toolchain/build.sh cli nodejs && bash tools/toolchain/openstack-bridge/build.sh");
        assert.strictEqual(tools.code, 0, `the Pulumi toolchain:\n${tools.stderr.slice(-3000)}`);
        const start = sh(launcher("start --guests"), {}, { echo: "stdout" });
        assert.strictEqual(start.code, 0, `local.sh start --guests failed (${start.code}):\n${start.stderr.slice(-3000)}`);
        started = true;
        timings.openstackStart = start.seconds;
        api = new OpenStackApi(localOpenStackEnv(state));

        // The engine's packages (the stack's pins, from the distribution's containerd) as an apt
        // repository built like the guest tests' mirror, served on every host address: the guests
        // reach the host only through their bridge, at the gateway.
        const built = sh(`bash tools/guest/mirror.sh ${Object.keys(DEFAULT_ENGINE_PACKAGES.containerd).join(" ")}`);
        assert.strictEqual(built.code, 0, `mirror.sh:\n${built.stderr.slice(-3000)}`);
        const dir = /^MIRROR_DIR=(.*)$/m.exec(built.stdout)![1];
        fs.mkdirSync(path.join(workDir, "backend"));
        keyFile = path.join(workDir, "id_ed25519");
        sh(`ssh-keygen -q -t ed25519 -N '' -C gw-guests-test -f '${keyFile}'`);

        fs.writeFileSync(path.join(workDir, "Pulumi.yaml"), stringify({ name: "groundwork", runtime: { name: "nodejs", options: { typescript: true } }, main: path.relative(workDir, REPO) }));
        return freePort().then((port) => {
            mirror = spawn("/usr/bin/python3", ["-m", "http.server", "--bind", "0.0.0.0", "--directory", dir, String(port)], { stdio: ["ignore", "ignore", "pipe"] });
            mirror.stderr!.on("data", (d) => (mirrorLog += d));
            const doc = parse(fs.readFileSync(path.join(REPO, "stacks/Pulumi.local.yaml"), "utf8"));
            const p = doc.config["groundwork:platform"];
            p.name = NAME;
            p.backends.openstack.network.name = `gw-${NAME}`;
            p.machines.sshAuthorizedKeys = [fs.readFileSync(`${keyFile}.pub`, "utf8").trim()];
            p.engine = { packageSource: { kind: "mirror", url: `http://${GATEWAY}:${port}/`, trusted: true } };
            delete doc.encryptionsalt;
            fs.writeFileSync(path.join(workDir, `Pulumi.${STACK}.yaml`), stringify(doc));
            pulumi("stack init --secrets-provider passphrase");
        });
    });

    after(function () {
        this.timeout(900_000);
        if (workDir && started && !destroyed) sh(pulumiLine("destroy --yes --skip-preview"), pulumiEnv());
        mirror?.kill();
        if (started && !stopped) sh(launcher("stop --purge"));
        if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
        process.stdout.write(`      timings (s): ${JSON.stringify(timings)}\n`);
    });

    it("pulumi up runs both machines as qemu guests on the libvirt compute host", async function () {
        this.timeout(1800_000);
        timings.up = pulumi("up --yes --skip-preview", true).seconds;
        const servers = await api.servers(`${NAME}-`);
        assert.deepStrictEqual(servers.map((s) => [s.name, s.status, s.host]), MACHINES.map(([n]) => [n, "ACTIVE", "gw-libvirt"]));
        const domains = virsh("list --name").stdout.split("\n").filter(Boolean);
        assert.strictEqual(domains.length, 2, `running libvirt domains: ${domains.join(", ")}`);
        // Each domain boots the image's kernel with the cmdline Glance holds, and carries a config drive.
        for (const d of domains) {
            const xml = virsh(`dumpxml ${d}`).stdout;
            assert.match(xml, /<cmdline>root=\/dev\/vda rw console=ttyS0 .*ci\.ds=ConfigDrive/);
            assert.match(xml, /<source file='[^']*\/disk\.config'/);
        }
    });

    it("each machine answers SSH on its planned address, and its first boot ran the rendered bootstrap with the engine from the mirror", async function () {
        this.timeout(2400_000);
        // The bootstrap each machine should have run, rendered by the CLI from the same stack file.
        const render = path.join(workDir, "render");
        const r = sh(`node bin/groundwork.js render --stack-file '${path.join(workDir, `Pulumi.${STACK}.yaml`)}' --out '${render}'`);
        assert.strictEqual(r.code, 0, r.stderr);
        const t0 = Date.now();
        await Promise.all(
            MACHINES.map(async ([name, ip]) => {
                const script = (parse(fs.readFileSync(path.join(render, name, "user-data"), "utf8")).write_files as { path: string; content: string }[]).find((f) => f.path === "/usr/local/sbin/groundwork-bootstrap")!.content;
                let out: Run | undefined;
                while (Date.now() - t0 < 1800_000) {
                    out = await ssh(ip, "timeout 1500 cloud-init status --wait >/dev/null 2>&1; hostname; ip -4 -o addr show dev eth0 | awk '{print $4}'; cloud-init status | sed -n 's/^status: //p'; systemctl is-active containerd; sudo -n cat /var/lib/groundwork/bootstrap.applied; sudo -n ctr version | sed -n 's/^ *Version: *//p' | tail -1");
                    if (out.code !== 255) break; // 255: ssh itself (not up yet)
                    await sleep(5000);
                }
                timings[`${name}Ready`] = Math.round((Date.now() - t0) / 1000);
                const [host, addr, status, active, applied, server] = out!.stdout.trim().split("\n");
                assert.deepStrictEqual([host, addr, status, active], [name, `${ip}/24`, "done", "active"], `${name}: ${out!.stdout}\n${out!.stderr}`);
                assert.strictEqual(applied, crypto.createHash("sha256").update(script).digest("hex"), `${name} applied another bootstrap`);
                assert.match(server, /^1\.6\.20/, `${name}: ctr version's server: ${out!.stdout}`);
            }),
        );
        // Both fetched containerd from the host's mirror, through the bridge.
        for (const [name, ip] of MACHINES) assert.match(mirrorLog, new RegExp(`${ip.replace(/\./g, "\\.")} .*"GET /pool/[^"]*containerd_1\\.6\\.20[^"]*\\.deb`), `${name} did not fetch containerd from the mirror:\n${mirrorLog.slice(-2000)}`);
        // Their addresses came by DHCP from the launcher's dnsmasq (the subnet has DHCP on, as the
        // program makes it): its leases pair each port's MAC, as Neutron holds it, with the planned address.
        const bridge = fs.readFileSync(path.join(state, "run/bridges"), "utf8").split("\n")[0];
        const leases = fs.readFileSync(path.join(state, "run/dhcp", bridge, "leases"), "utf8");
        const ports = await api.ports(`${NAME}-`);
        for (const [name, ip] of MACHINES) {
            const port = ports.find((p) => p.fixed_ips.some((f) => f.ip_address === ip));
            assert.ok(port, `no port holds ${ip}: ${JSON.stringify(ports.map((p) => [p.name, p.fixed_ips]))}`);
            assert.match(leases, new RegExp(`^\\d+ ${port.mac_address} ${ip.replace(/\./g, "\\.")} ${name} `, "m"), `${name}'s lease:\n${leases}`);
        }
        // Guests on one network reach each other.
        const reach = await ssh(MACHINES[0][1], `timeout 10 bash -c 'exec 3<>/dev/tcp/${MACHINES[1][1]}/22' && echo reached`);
        assert.strictEqual(reach.stdout.trim(), "reached", reach.stderr);
    });

    it("pulumi destroy removes the servers and their qemu processes; stop removes the bridge", async function () {
        this.timeout(900_000);
        const bridges = fs.readFileSync(path.join(state, "run/bridges"), "utf8").split("\n").filter(Boolean);
        assert.strictEqual(new Set(bridges).size, 1, `bridges made: ${bridges.join(", ")}`);
        timings.destroy = pulumi("destroy --yes --skip-preview").seconds;
        destroyed = true;
        assert.deepStrictEqual(await api.servers(`${NAME}-`), []);
        assert.deepStrictEqual(virsh("list --all --name").stdout.split("\n").filter(Boolean), []);
        assert.notStrictEqual(sh(`pgrep -f '${state}/data/nova/instances/'`).code, 0, "a qemu process of the stack still runs");
        const stop = sh(launcher("stop --purge"));
        stopped = true;
        assert.strictEqual(stop.code, 0, stop.stderr);
        assert.match(stop.stdout, new RegExp(`deleted bridge ${bridges[0]}`));
        assert.match(stop.stdout, new RegExp(`stopped dnsmasq pid \\d+ \\(${bridges[0]}\\)`));
        assert.notStrictEqual(sh(`pgrep -f 'dnsmasq --conf-file=${state}/'`).code, 0, "the network's dnsmasq still runs");
        assert.notStrictEqual(sh(`ip link show dev ${bridges[0]}`).code, 0, `bridge ${bridges[0]} is still there`);
    });
});
