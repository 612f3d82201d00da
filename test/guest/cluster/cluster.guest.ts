/**
 * The real cluster: three Debian 12 guests on one private L2 segment — a standalone registry, one
 * control plane, one worker — boot exactly what `groundwork render` writes for the stack
 * test/guest/stacks/Pulumi.guest-cluster.yaml, air-gapped: apt only from the host's mirror (the
 * Kubernetes packages built here, Debian's for the rest), images only from the registry guest,
 * which `groundwork seed` fills from the OCI archive of images built here.
 *
 * The test does what `pulumi up` does for bare metal, in the program's order: the deploy-time
 * values (cluster CA, admin certificate, registry TLS and password) made with openssl where the
 * program uses @pulumi/tls and random; each machine's bootstrap run over SSH by CONVERGE_COMMAND; join
 * material delivered with RECEIVE_JOIN_MATERIAL, the worker's join registered on the first
 * control plane with registerJoinScript; flannel's rendered objects applied through the VIP with
 * the program's kubeconfig. The harness stands in for the data center only: each guest's address
 * (cloud-init network config from the IP plan) and its DNS (/etc/hosts, resolv.conf).
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import * as tls from "tls";
import { parse as parseYaml, parseAllDocuments, stringify as stringifyYaml } from "yaml";
import { caCertHash, renderKubeconfig } from "../../../components/cluster/kubeadm";
import { RECEIVE_JOIN_MATERIAL, registerJoinScript, renderJoinMaterial } from "../../../components/cluster/join";
import { PATHS } from "../../../components/cluster/parts";
import { BOOTSTRAP_PATH } from "../../../components/engine/bootstrap";
import { DEFAULT_ENGINE_PACKAGES } from "../../../components/engine/config";
import { CONVERGE_COMMAND } from "../../../components/machines/converge";
import { parseExpiryReport, REPORT_CERTIFICATES_COMMAND } from "../../../components/cluster/certificates";
import { NODE_LEAVE_SCRIPT } from "../../../components/cluster/scale-in";
import { asRoot } from "../../../components/kit/shell";
import { registryConfig } from "../../../components/registry/config";
import { imageThroughRegistry, registryEndpoint } from "../../../components/registry/endpoint";
import { DEFAULT_REGISTRY_USER, STANDALONE_REGISTRY_PACKAGES } from "../../../components/registry/render-standalone";
import { ensureKubernetesBinaries, ensureKubernetesRepository, mergeRepositories } from "../../support/cluster-artifacts";
import { bootGuest, ensureBaseImage, Guest, l2Segment, L2Segment, Mirror, sshOk, startMirror } from "../../support/guest";
import { bcrypt, makeCa, openssl, serverCert } from "../../support/pki";
import { pulumiProject } from "../../support/sshd";
import { ensureClusterImages } from "../../../tools/images/cluster-images";
import { ensureWorkloadImages } from "../../../tools/images/workload-images";
import { anonymousStatus, checkRegistry, pushOciTarball } from "../../registry/oci-push";

const REPO = path.resolve(__dirname, "../../..");
const STACK = path.join(REPO, "test/guest/stacks/Pulumi.guest-cluster.yaml");
const SEGMENT = "k1";
/** The workload image: only ever in the registry guest, pushed there by the test. */
const TINY = "docker.io/groundwork/tiny:1.0";
/**
 * On demand (tools/test.sh upgrade sets it): after the day-2 checks, the rolling upgrade to this
 * version (the next minor: tools/kubernetes/build.sh --next builds it), as `pulumi up` runs it.
 */
const UPGRADE_TO = process.env.GROUNDWORK_UPGRADE_TO;
/** `s` matched literally inside a RegExp (addresses and versions: their dots). */
const literal = (s: string) => s.replace(/\./g, "\\.");
const t0 = Date.now();
const since = () => (Date.now() - t0) / 1000;
const note = (msg: string) => process.stderr.write(`[cluster.guest +${since().toFixed(1)}s] ${msg}\n`);

/** A Kubernetes object as parsed from workloads.yaml (spec left open: several kinds). */
type AppObject = { kind: string; metadata: { name: string }; spec: any; stringData?: Record<string, string> };

interface PlanMachine {
    name: string;
    role: string;
    address: string;
}

/** What ClusterSecrets makes with @pulumi/tls: an RSA CA "kubernetes", and an admin client certificate in system:masters. */
function clusterSecrets(dir: string) {
    openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=kubernetes", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature,keyEncipherment");
    openssl(dir, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "admin.key", "-out", "admin.csr", "-subj", "/O=system:masters/CN=groundwork-admin");
    fs.writeFileSync(path.join(dir, "admin.ext"), "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n");
    openssl(dir, "x509", "-req", "-in", "admin.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "admin.crt", "-days", "2", "-extfile", "admin.ext");
    const r = (f: string) => fs.readFileSync(path.join(dir, f), "utf8");
    const publicKeyPem = execFileSync("openssl", ["pkey", "-in", path.join(dir, "ca.key"), "-pubout"]).toString();
    // kubeadm's discovery pin, computed by openssl here (sha256 of the DER SubjectPublicKeyInfo): the oracle for caCertHash.
    const der = execFileSync("openssl", ["pkey", "-in", path.join(dir, "ca.key"), "-pubout", "-outform", "DER"]);
    const pin = `sha256:${crypto.createHash("sha256").update(der).digest("hex")}`;
    assert.strictEqual(caCertHash(publicKeyPem), pin);
    return { caCertPem: r("ca.crt"), caKeyPem: r("ca.key"), caCertHash: pin, adminCertPem: r("admin.crt"), adminKeyPem: r("admin.key") };
}

/** The standalone registry's TLS as the program makes it: a CA, and a server certificate for its name and address. */
function registryTls(dir: string, host: string, address: string) {
    const ca = makeCa(dir, "groundwork registry CA", "reg-ca");
    const server = serverCert(dir, ca, host, [address], "reg");
    return { caPem: ca.pem, certPem: server.certPem, keyPem: server.keyPem, caFile: ca.certFile };
}

/** A kubeadm bootstrap token in [a-z0-9]{6}.[a-z0-9]{16}. */
function token(): string {
    const pick = (n: number) => Array.from(crypto.randomBytes(n), (b) => "abcdefghijklmnopqrstuvwxyz0123456789"[b % 36]).join("");
    return `${pick(6)}.${pick(16)}`;
}

/** cloud-init network config v2: eth0 keeps qemu's user network (SSH, the mirror) without a default route; eth1 carries the planned address. */
function networkConfig(address: string, prefix: number, gateway: string, dns: string[]): string {
    return [
        "version: 2",
        "ethernets:",
        "  eth0:",
        "    addresses: [10.0.2.15/24]",
        "  eth1:",
        `    addresses: [${address}/${prefix}]`,
        `    gateway4: ${gateway}`,
        `    nameservers: { addresses: [${dns.join(", ")}] }`,
        "",
    ].join("\n");
}

/** Runs the rendered bare-metal bootstrap as the program does (CONVERGE_COMMAND, script on stdin); returns its output and seconds. */
async function runBootstrap(guest: Guest, script: string, timeoutSec = 3600): Promise<{ output: string; seconds: number }> {
    const start = Date.now();
    const output = await sshOk(guest, CONVERGE_COMMAND, { input: script, timeoutSec, withStderr: true });
    return { output, seconds: (Date.now() - start) / 1000 };
}

/**
 * Asks `https://<vip>:6443/readyz` through `port` (a forward into the segment) as a long-lived client
 * does: over one kept-alive connection, so the API server makes a TLS handshake only when it lost the
 * last connection (on a starved emulated control plane a handshake a second is itself a load). A
 * request that fails on a kept connection the server had closed is asked once more on a new one.
 * Resolves to "ok" or to why not.
 */
function readyzClient(port: number, vip: string, caPem: string): { ask: () => Promise<string>; close: () => void } {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    const once = () =>
        new Promise<{ answer: string; reused: boolean }>((resolve) => {
            const req = https.request({ host: "127.0.0.1", port, path: "/readyz", ca: caPem, agent, checkServerIdentity: (_host, cert) => tls.checkServerIdentity(vip, cert), timeout: 5000 }, (res) => {
                let body = "";
                res.setEncoding("utf8");
                res.on("data", (d: string) => (body += d));
                res.on("end", () => resolve({ answer: res.statusCode === 200 ? body.trim() : `HTTP ${res.statusCode}`, reused: req.reusedSocket }));
                res.on("error", (e) => resolve({ answer: e.message, reused: req.reusedSocket }));
            });
            req.on("timeout", () => req.destroy(new Error("no answer in 5s")));
            req.on("error", (e: NodeJS.ErrnoException) => resolve({ answer: `${e.code ?? ""} ${e.message}`.trim(), reused: req.reusedSocket && /ECONNRESET|EPIPE|socket hang up/.test(`${e.code} ${e.message}`) }));
            req.end();
        });
    return {
        ask: async () => {
            const first = await once();
            return first.answer === "ok" || !first.reused ? first.answer : (await once()).answer;
        },
        close: () => agent.destroy(),
    };
}

/** A resource's name: the last part of its URN. */
const nameOf = (urn: string) => urn.split("::").pop()!;

/**
 * Runs `ask` every `ms` (each run started `ms` after the one before, or at once when it took longer)
 * until stop() is called; stop() resolves once the last run ended.
 */
function repeatEvery(ms: number, ask: () => Promise<void>): { stop: () => Promise<void> } {
    let running = true;
    const loop = (async () => {
        while (running) {
            const asked = Date.now();
            await ask();
            await new Promise((res) => setTimeout(res, Math.max(0, ms - (Date.now() - asked))));
        }
    })();
    return {
        stop: async () => {
            running = false;
            await loop;
        },
    };
}

/**
 * From `pulumi up --event-log` (one engine event per line): when each resource's step began (its
 * resourcePreEvent) and ended (its resOutputsEvent), as the engine's sequence numbers and its
 * timestamps (seconds), keyed by the resource's name.
 */
function stepSpans(log: string): Record<string, { start: number; startAt: number; end?: number; endAt?: number }> {
    const spans: Record<string, { start: number; startAt: number; end?: number; endAt?: number }> = {};
    for (const line of log.split("\n").filter((l) => l.trim() !== "")) {
        const e = JSON.parse(line) as { sequence: number; timestamp: number; resourcePreEvent?: { metadata: { urn: string; op: string } }; resOutputsEvent?: { metadata: { urn: string; op: string } } };
        const pre = e.resourcePreEvent?.metadata;
        const done = e.resOutputsEvent?.metadata;
        if (pre && pre.op !== "same") spans[nameOf(pre.urn)] ??= { start: e.sequence, startAt: e.timestamp };
        if (done && done.op !== "same") {
            const span = spans[nameOf(done.urn)];
            if (span) Object.assign(span, { end: e.sequence, endAt: e.timestamp });
        }
    }
    return spans;
}

describe("a real air-gapped cluster in guests: registry, control plane, worker", function () {
    this.timeout(3 * 3600_000);
    const timings: Record<string, number | string> = {};
    const guests: Guest[] = [];
    let mirror: Mirror | undefined;
    let segment: L2Segment | undefined;
    let work: string;

    after(async () => {
        for (const g of guests) await g.stop();
        await mirror?.stop();
        await segment?.down();
        if (work) fs.rmSync(work, { recursive: true, force: true });
        note(`timings: ${JSON.stringify(timings)}`);
    });

    it("boots the rendered bootstrap into a working cluster: Ready nodes, CoreDNS, the VIP, registry pulls, cross-node DNS", async () => {
        work = fs.mkdtempSync(path.join(os.tmpdir(), "gw-cluster-guest-"));
        const stack = parseYaml(fs.readFileSync(STACK, "utf8")).config["groundwork:platform"];
        const version: string = String(stack.cluster.kubernetesVersion);

        // 1. Artifacts built here: binaries, packages, images, the mirror.
        let t = Date.now();
        const bin = ensureKubernetesBinaries();
        const repo = ensureKubernetesRepository(version, bin);
        const images = await ensureClusterImages();
        const appImages = await ensureWorkloadImages();
        await ensureBaseImage();
        // For the upgrade: the next version's binaries, packages (served beside this version's) and images.
        let kubernetesRepo = repo.dir;
        let nextImages: Awaited<ReturnType<typeof ensureClusterImages>> | undefined;
        if (UPGRADE_TO) {
            const binNext = ensureKubernetesBinaries({ next: true });
            const nextRepo = ensureKubernetesRepository(UPGRADE_TO, binNext);
            nextImages = await ensureClusterImages({ kubernetesVersion: UPGRADE_TO, binDir: binNext, cacheDir: path.join(path.dirname(bin), "images-next") });
            kubernetesRepo = path.join(work, "kubernetes-repo");
            const merged = mergeRepositories([repo.dir, nextRepo.dir], kubernetesRepo);
            // The upgrade's Pulumi host: the engine, its Node.js language host and the command plugin.
            execFileSync("bash", [path.join(REPO, "tools/toolchain/build.sh"), "cli", "nodejs", "command"], { cwd: REPO, stdio: ["ignore", "ignore", "inherit"] });
            note(`upgrade target ${UPGRADE_TO}: ${nextImages.images.length} images (${nextImages.tar}); the mirror's Kubernetes packages: ${merged.join(" ")}`);
        }
        mirror = await startMirror([...Object.keys(DEFAULT_ENGINE_PACKAGES.containerd), ...Object.keys(STANDALONE_REGISTRY_PACKAGES)], { flat: { kubernetes: kubernetesRepo } });
        timings.artifactsSec = (Date.now() - t) / 1000;
        note(`artifacts: ${repo.debs.length} debs, ${images.images.length} cluster images (${images.tar}), ${appImages.images.length} workload images (${appImages.tar}), mirror ${mirror.packageCount} packages ${mirror.sizeMiB} MiB (${timings.artifactsSec}s)`);

        // 2. What the program renders for the stack.
        const out = path.join(work, "render");
        execFileSync("node", [path.join(REPO, "bin/groundwork.js"), "render", "--stack-file", STACK, "--out", out], { stdio: ["ignore", "ignore", "inherit"] });
        const plan = JSON.parse(fs.readFileSync(path.join(out, "plan.json"), "utf8"));
        const machines: PlanMachine[] = plan.machines;
        const byRole = (role: string) => machines.find((m) => m.role === role)!;
        const [reg, cp, worker] = [byRole("registry"), byRole("control-plane"), byRole("worker")];
        const prefix = Number(String(stack.network.cidr).split("/")[1]);

        // 3. Deploy-time values, as the program makes them.
        const secrets = clusterSecrets(work);
        const regHost: string = stack.registry.hostname;
        const tls = registryTls(work, regHost, reg.address);
        const password = crypto.randomBytes(18).toString("base64url");
        const values: Record<string, string> = {
            "cluster-ca": secrets.caCertPem,
            "cluster-ca-hash": secrets.caCertHash,
            "registry-ca": tls.caPem,
            "registry-cert": tls.certPem,
            "registry-key": tls.keyPem,
            "registry-password": password,
            "registry-password-bcrypt": bcrypt(password),
        };
        const script = (m: PlanMachine, from = out) => {
            const text = fs.readFileSync(path.join(from, m.name, "bootstrap.sh"), "utf8").replace(/@@GROUNDWORK:([a-z0-9-]+)@@/g, (x, n: string) => {
                if (values[n] === undefined) throw new Error(`${m.name}: no value for placeholder ${x}`);
                // PEM placeholders sit in heredocs or quoted strings: values go in as rendered by the program.
                return values[n];
            });
            return text;
        };

        // 4. The segment and three guests at their planned addresses.
        segment = await l2Segment(SEGMENT, 3, `${stack.network.gateway}/${prefix}`);
        t = Date.now();
        timings.bootAtSec = since(); // the bench's zero: boot → nodes Ready = nodesReadySec − bootAtSec
        // Five emulated vCPUs share the host's two cores. In a data center each machine has its own; here
        // the control plane gets the larger share when all are busy (the worker's and the registry's qemu
        // run at a higher niceness): under TCG a starved etcd times out requests, the API server's
        // liveness probe then restarts it, and kube-vip gives the VIP up until it leads again.
        const sizes: Record<string, { memoryMiB: number; cpus: number; nice: number }> = { [reg.name]: { memoryMiB: 1024, cpus: 1, nice: 10 }, [cp.name]: { memoryMiB: 3072, cpus: 2, nice: 0 }, [worker.name]: { memoryMiB: 2048, cpus: 2, nice: 5 } };
        const booted = await Promise.all(
            [reg, cp, worker].map((m, i) =>
                bootGuest({ name: m.name, userData: "#cloud-config\n{}\n", mirrorPort: mirror!.port, tap: segment!.taps[i], networkConfig: networkConfig(m.address, prefix, stack.network.gateway, stack.network.dns), ...sizes[m.name], timeoutSec: 1800 }),
            ),
        );
        guests.push(...booted);
        const [regGuest, cpGuest, workerGuest] = booted;
        await Promise.all(booted.map((g) => g.waitCloudInit(1800)));
        timings.guestsUpSec = (Date.now() - t) / 1000;
        note(`guests up (accel ${cpGuest.accel}) in ${timings.guestsUpSec}s`);
        // The data center's DNS, as the hosts file: the registry's name, every machine's.
        const hosts = machines.map((m) => `${m.address} ${m.name}${m.role === "registry" ? ` ${regHost}` : ""}`).join("\n");
        for (const g of booted) {
            await sshOk(g, `printf '%s\\n' '${hosts.split("\n").join("' '")}' | sudo tee -a /etc/hosts >/dev/null && printf 'nameserver %s\\n' ${stack.network.dns.join(" ")} | sudo tee /etc/resolv.conf >/dev/null`);
        }
        const ping = await sshOk(cpGuest, `ping -c 2 -W 5 ${worker.address} && ping -c 2 -W 5 ${reg.address}`);
        assert.match(ping, /2 received/, ping);

        // 5. The registry, then the seed (the control plane waits for it before kubeadm init).
        const cpInit = runBootstrapAfterMaterial();
        cpInit.catch(() => undefined); // awaited below; a failure there is the test's failure
        // The worker's bootstrap starts now too, as the program starts every bare-metal bootstrap: it
        // installs the engine and packages, then waits for the join material delivered in step 8.
        const workerRun = runBootstrap(workerGuest, script(worker));
        workerRun.catch(() => undefined);
        const regRun = await runBootstrap(regGuest, script(reg));
        timings.registryReadySec = regRun.seconds;
        note(`registry ready in ${regRun.seconds}s`);
        assert.match(regRun.output, /registry: https:\/\/registry\.gwk\.test:5000\/v2\/ is up \(TLS, htpasswd auth\)/, regRun.output.slice(-1500));
        const regPort = await segment.forward(reg.address, 5000);
        // Its TLS and auth as a node meets them (the checks of test/guest/registry.guest.ts, its cloud-init twin):
        // anonymous and a wrong password refused, the generated one let in; the key readable by root and the registry only.
        const target = { host: regHost, connectAddress: "127.0.0.1", connectPort: regPort, port: 5000, caPem: tls.caPem, username: DEFAULT_REGISTRY_USER, password };
        assert.strictEqual(await anonymousStatus(target), 401);
        assert.strictEqual(await checkRegistry({ ...target, password: "wrong" }), 401);
        assert.strictEqual(await checkRegistry(target), 200);
        assert.strictEqual((await sshOk(regGuest, "sudo stat -c %U:%G:%a /etc/groundwork/registry/tls/registry.key")).trim(), "root:docker-registry:640");
        t = Date.now();
        const seed = execFileSync("node", [path.join(REPO, "bin/groundwork.js"), "seed", "--stack-file", STACK, "--from", images.tar, "--from", appImages.tar, "--ca", tls.caFile, "--connect", `127.0.0.1:${regPort}`], {
            env: { ...process.env, GROUNDWORK_REGISTRY_PASSWORD: password },
            stdio: ["ignore", "pipe", "inherit"],
        }).toString();
        timings.seedSec = (Date.now() - t) / 1000;
        note(`seed (${timings.seedSec}s):\n${seed.trim()}`);

        // 6. The control plane: join material over SSH, then its bootstrap (kubeadm init once the images are pullable).
        async function runBootstrapAfterMaterial(): Promise<{ output: string; seconds: number }> {
            const material = renderJoinMaterial({ token: token(), certificateKey: crypto.randomBytes(32).toString("hex"), caKeyPem: secrets.caKeyPem });
            await sshOk(cpGuest, RECEIVE_JOIN_MATERIAL, { input: material, withStderr: true });
            return runBootstrap(cpGuest, script(cp));
        }
        const init = await cpInit;
        timings.controlPlaneBootstrapSec = init.seconds;
        const initLine = /kubeadm: control plane initialised in (\d+)s/.exec(init.output);
        timings.kubeadmInitSec = initLine ? Number(initLine[1]) : "?";
        note(`control plane bootstrap ${init.seconds}s (kubeadm init ${timings.kubeadmInitSec}s)`);
        assert.match(init.output, /kubeadm: images pullable from registry\.gwk\.test:5000/, init.output.slice(-3000));
        assert.ok(initLine, init.output.slice(-3000));
        assert.doesNotMatch(init.output, /[a-z0-9]{6}\.[a-z0-9]{16}/, "kubeadm printed a bootstrap token");

        // 7. kubectl through the VIP with the program's kubeconfig.
        const kubeconfig = path.join(work, "kubeconfig");
        fs.writeFileSync(kubeconfig, renderKubeconfig({ clusterName: stack.name, server: `https://${stack.network.vip}:6443`, caCertPem: secrets.caCertPem, user: "groundwork-admin", clientCertPem: secrets.adminCertPem, clientKeyPem: secrets.adminKeyPem }), { mode: 0o600 });
        // The bootstrap ends only once the VIP is steady again (kube-vip's restart after init is the
        // product's to wait out, not the test's). Later, with the apps running on this emulated
        // single control plane, the API can drop a connection or refuse one for a while (its probes
        // restart it when etcd is starved, and kube-vip then gives up the VIP until it leads again): a
        // call that meets that is retried for up to 10 minutes from its first such failure,
        // and every such blip is counted in the timings (apiBlips), never hidden. Any other error fails.
        // "no route to host": the VIP itself is away while kube-vip, which lost its lease to the slow API, takes it back.
        // kubectl says "The connection to the server …:6443 was refused" when its very first request finds no listener.
        const TRANSIENT = /connection refused|connection to the server [^ ]+ was refused|client connection lost|connection reset|no route to host|i\/o timeout|TLS handshake timeout|unexpected EOF|context deadline exceeded|the server is currently unable to handle the request|ServiceUnavailable/;
        timings.apiBlips = 0;
        // How long one call may keep meeting a missing API: an emulated API server restarted by its
        // liveness probe under a saturated guest takes minutes to answer again.
        const API_AWAY_MS = 600_000;
        /** The control plane's ten busiest processes. */
        const CP_TOP = "top -b -n 1 -o %CPU -w 160 | sed -n '7,17p'";
        // What the control plane looked like when the API went away: kept for the log, never asserted on.
        const DIAGNOSE = [
            "uptime; free -m | head -2",
            CP_TOP,
            "sudo crictl ps -a -o table 2>&1 | head -30",
            "for c in kube-apiserver etcd kube-vip; do id=$(sudo crictl ps -a -q --name \"^$c\" | head -1); echo \"--- $c ($id)\"; [ -n \"$id\" ] && sudo crictl logs --tail 25 \"$id\" 2>&1 | cut -c1-300; done",
            "echo '--- kubelet'; sudo journalctl -u kubelet --since '-6min' --no-pager 2>&1 | grep -iE 'probe|kill|restart|evict|oom|back-off' | tail -25 | cut -c1-300",
            "echo '--- kernel'; sudo dmesg 2>&1 | grep -iE 'oom|killed process|hung' | tail -10",
        ].join("; ");
        // During the upgrade: which API server containers ran and why the last ones ended (their errors and fatal lines), and etcd's slow applies.
        const UPGRADE_DIAGNOSE = [
            "uptime",
            CP_TOP,
            "sudo crictl ps -a -o table 2>&1 | head -30",
            "for id in $(sudo crictl ps -a -q --name '^kube-apiserver' | head -3); do echo \"--- kube-apiserver $id\"; sudo crictl logs \"$id\" 2>&1 | grep -E '^[EF][0-9]{4}|hook|informer|Timeout|timeout' | tail -25 | cut -c1-300; done",
            "id=$(sudo crictl ps -a -q --name '^etcd' | head -1); echo \"--- etcd $id: $(sudo crictl logs \"$id\" 2>&1 | grep -c 'apply request took too long') slow applies\"; sudo crictl logs --tail 10 \"$id\" 2>&1 | cut -c1-300",
        ].join("; ");
        const diagnoses: Promise<string>[] = [];
        const diagnose = (why: string, command = DIAGNOSE) => {
            const d = cpGuest
                .ssh(command, { timeoutSec: 180 })
                .then((r) => `[${why} at +${since().toFixed(0)}s]\n${r.stdout}${r.stderr}`)
                .catch((e: Error) => `[${why}] diagnosis failed: ${e.message}`);
            diagnoses.push(d);
            return d;
        };
        // A rollout script (drain, uncordon, leave) run from the Pulumi host as the program runs it: `node -e`,
        // the API through the VIP as the admin, the step's own variables in `extra`.
        const fromHost = (step: string, m: PlanMachine, program: string, extra: Record<string, string>, timeoutSec: number) => {
            const env = { GROUNDWORK_STEP: step, GROUNDWORK_SERVER: `https://${stack.network.vip}:6443`, GROUNDWORK_CA: secrets.caCertPem, GROUNDWORK_CERT: secrets.adminCertPem, GROUNDWORK_KEY: secrets.adminKeyPem, GROUNDWORK_NODE: m.name, ...extra };
            return segment!.exec("env", [...Object.entries(env).map(([k, v]) => `${k}=${v}`), "node", "-e", program], { timeoutSec });
        };
        const kubectl = async (args: string[], input?: string) => {
            // Counted from the call's first transient failure, not its start: a first try can spend
            // minutes in request timeouts against a slowing API server before it fails.
            let awaySince: number | undefined;
            for (let attempt = 1; ; attempt++) {
                const r = await segment!.exec(path.join(bin, "kubectl"), ["--kubeconfig", kubeconfig, "--request-timeout=60s", ...args], { input, timeoutSec: 300 });
                if (r.code === 0) return r.stdout;
                // A create whose first try reached the server before the connection dropped.
                if (attempt > 1 && /AlreadyExists|already exists/.test(r.stderr)) return r.stdout;
                if (TRANSIENT.test(r.stderr)) awaySince ??= Date.now();
                if (!TRANSIENT.test(r.stderr) || Date.now() - awaySince! > API_AWAY_MS) {
                    if (TRANSIENT.test(r.stderr)) {
                        await diagnose("the API still away");
                        for (const d of diagnoses) note(`control plane diagnosis ${await d}`);
                    }
                    throw new Error(`kubectl ${args.join(" ")}: ${r.stderr.trim()}`);
                }
                if (attempt === 1) void diagnose(`blip ${Number(timings.apiBlips) + 1}: kubectl ${args.slice(0, 3).join(" ")}`);
                timings.apiBlips = Number(timings.apiBlips) + 1;
                note(`the API dropped kubectl ${args.slice(0, 3).join(" ")} (${r.stderr.trim().split("\n").pop()}); retrying`);
                await new Promise((res) => setTimeout(res, 5000));
            }
        };
        // The bootstrap ends only once the VIP answers steadily after kube-vip's switch to admin.conf.
        assert.match(init.output, /kube-vip: the API answers through https:\/\/[0-9.]+:6443 again \(\d+s\)/, init.output.slice(-3000));
        const readyz = await segment.exec("curl", ["-sS", "--max-time", "20", "--cacert", path.join(work, "ca.crt"), `https://${stack.network.vip}:6443/readyz`]);
        assert.strictEqual(readyz.stdout.trim(), "ok", readyz.stderr);
        timings.vipReadySec = since();
        // cluster.certificates.keyAlgorithm: the API server presents a P-256 key (kubeadm's own would be RSA-2048), signed by the program's RSA CA.
        const served = await segment.exec("bash", ["-c", `openssl s_client -connect ${stack.network.vip}:6443 -CAfile '${path.join(work, "ca.crt")}' </dev/null 2>/dev/null | openssl x509 -noout -text`]);
        assert.match(served.stdout, /Public Key Algorithm: id-ecPublicKey[\s\S]*NIST CURVE: P-256/, served.stdout.slice(0, 2000));
        assert.match(served.stdout, /Signature Algorithm: sha256WithRSAEncryption/);

        // flannel, as the program applies its rendered objects.
        const flannelFile = path.join(out, "flannel.yaml");
        assert.ok(fs.existsSync(flannelFile), `render wrote no ${flannelFile}`);
        await kubectl(["apply", "-f", "-"], fs.readFileSync(flannelFile, "utf8"));

        // 8. The worker: its join registered on the first control plane, its material delivered, its bootstrap.
        const workerMaterial = renderJoinMaterial({ token: token() });
        const registered = await sshOk(cpGuest, registerJoinScript(worker.name, PATHS.clusterConfig), { input: workerMaterial, withStderr: true });
        assert.match(registered, new RegExp(`join of ${worker.name} registered on ${cp.name}`));
        await sshOk(workerGuest, RECEIVE_JOIN_MATERIAL, { input: workerMaterial, withStderr: true });
        const join = await workerRun;
        timings.workerBootstrapSec = join.seconds;
        assert.match(join.output, /kubeadm: joined in \d+s/, join.output.slice(-3000));

        // 9. Both nodes Ready, CoreDNS available.
        const waitFor = async (what: string, check: () => Promise<boolean>, timeoutSec = 1800) => {
            const start = Date.now();
            while (!(await check())) {
                if (Date.now() - start > timeoutSec * 1000) throw new Error(`${what}: not after ${timeoutSec}s`);
                await new Promise((r) => setTimeout(r, 10_000));
            }
            return (Date.now() - start) / 1000;
        };
        await waitFor("both nodes Ready", async () => {
            const nodes = JSON.parse(await kubectl(["get", "nodes", "-o", "json"])).items as { metadata: { name: string }; status: { conditions: { type: string; status: string }[] } }[];
            return nodes.length === 2 && nodes.every((n) => n.status.conditions.some((c) => c.type === "Ready" && c.status === "True"));
        });
        timings.nodesReadySec = since();
        await waitFor("CoreDNS available", async () => {
            const d = JSON.parse(await kubectl(["-n", "kube-system", "get", "deployment", "coredns", "-o", "json"]));
            return (d.status.availableReplicas ?? 0) >= 1;
        });
        timings.corednsReadySec = since();
        note(`nodes Ready at +${timings.nodesReadySec}s, CoreDNS at +${timings.corednsReadySec}s`);
        // Where the control plane's emulated CPUs go once the cluster is up: for the log, never asserted on.
        note(`control plane at +${since().toFixed(0)}s:\n${(await cpGuest.ssh(`uptime; ${CP_TOP}`, { timeoutSec: 120 }).catch((e: Error) => ({ stdout: e.message, stderr: "" }))).stdout}`);
        const nodeList = await kubectl(["get", "nodes", "-o", "wide"]);
        note(nodeList);
        assert.match(nodeList, new RegExp(`${cp.name}\\s+Ready\\s+control-plane.*${literal(cp.address)}`));
        assert.match(nodeList, new RegExp(`${worker.name}\\s+Ready.*${literal(worker.address)}`));

        // 10. The application matrix, applied now so that its pulls and starts overlap step 11: the
        // objects render wrote for the stack's apps, their images only in the registry (seeded above),
        // their generated credentials made here as the program's RandomPassword makes them, their
        // volumes the data center's local disks on the worker.
        const appsAppliedAt = Date.now();
        const appObjects = parseAllDocuments(fs.readFileSync(path.join(out, "workloads.yaml"), "utf8")).map((d) => d.toJSON() as AppObject);
        for (const o of appObjects.filter((x) => x.kind === "Secret")) {
            for (const [k, v] of Object.entries(o.stringData ?? {})) if (/^generated-x*$/.test(v)) o.stringData![k] = crypto.randomBytes(v.length).toString("base64url").slice(0, v.length);
        }
        const claims = appObjects.flatMap((o) => {
            if (o.kind === "PersistentVolumeClaim") return [{ name: o.metadata.name, size: o.spec.resources.requests.storage as string }];
            if (o.kind === "StatefulSet") return (o.spec.volumeClaimTemplates ?? []).flatMap((c: AppObject) => Array.from({ length: o.spec.replicas ?? 1 }, (_, i) => ({ name: `${c.metadata.name}-${o.metadata.name}-${i}`, size: c.spec.resources.requests.storage as string })));
            return [];
        });
        const storageClass: string = stack.apps.storageClass;
        await sshOk(workerGuest, `sudo install -d -m 0777 ${claims.map((c) => `/srv/local-disks/${c.name}`).join(" ")}`);
        const volumes = [
            { apiVersion: "storage.k8s.io/v1", kind: "StorageClass", metadata: { name: storageClass }, provisioner: "kubernetes.io/no-provisioner", volumeBindingMode: "Immediate", reclaimPolicy: "Retain" },
            ...claims.map((c) => ({
                apiVersion: "v1",
                kind: "PersistentVolume",
                metadata: { name: `local-${c.name}` },
                spec: {
                    capacity: { storage: c.size },
                    accessModes: ["ReadWriteOnce"],
                    persistentVolumeReclaimPolicy: "Retain",
                    storageClassName: storageClass,
                    claimRef: { namespace: "apps", name: c.name },
                    local: { path: `/srv/local-disks/${c.name}` },
                    nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [worker.name] }] }] } },
                },
            })),
        ];
        // The upgrade run (UPGRADE_TO) leaves the apps out: its workload on the worker is step 11's web Deployment.
        if (!UPGRADE_TO) {
            await kubectl(["apply", "-f", "-"], [...volumes, ...appObjects].map((o) => JSON.stringify(o)).join("\n"));
            note(`apps: ${appObjects.length} objects and ${claims.length} local volumes applied (${claims.map((c) => `${c.name} ${c.size}`).join(", ")})`);
        }

        // 11. A Deployment whose image exists only in the registry, on the worker; a client on the control plane reaches it by Service name.
        const tiny = path.join(work, "tiny.tar");
        execFileSync(path.join(REPO, "tools/guest/tiny-image.sh"), [tiny, "groundwork/tiny:1.0"], { stdio: ["ignore", "ignore", "pipe"] });
        // Where the nodes' mirror configuration looks for docker.io/groundwork/tiny in the registry.
        const endpoint = registryEndpoint(registryConfig.parse(stack.registry), [], tls.caPem)!;
        const inRegistry = imageThroughRegistry(TINY, endpoint)!.slice(endpoint.authority.length + 1);
        await pushOciTarball(tiny, inRegistry.split(":")[0], "1.0", { host: regHost, connectAddress: "127.0.0.1", connectPort: regPort, port: 5000, caPem: tls.caPem, username: DEFAULT_REGISTRY_USER, password });
        // A request from a pod, tried for up to 2 minutes: a Service's endpoints reach the other node's
        // kube-proxy some seconds after its pod runs (on the loaded emulated control plane, later than the
        // client starts: "Connection refused" from the rule a Service without endpoints gets). Only the last
        // try's output is kept: its answer is asserted.
        const retried = (cmd: string) => `(i=0; until out=$(${cmd} 2>&1); do i=$((i + 1)); if [ $i -ge 40 ]; then printf '%s\n' "$out"; exit 1; fi; sleep 3; done; printf '%s\n' "$out")`;
        const objects = [
            { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "default" }, spec: { replicas: 1, selector: { matchLabels: { app: "web" } }, template: { metadata: { labels: { app: "web" } }, spec: { nodeSelector: { "kubernetes.io/hostname": worker.name }, containers: [{ name: "web", image: TINY, imagePullPolicy: "Always", command: ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/"], ports: [{ containerPort: 8080 }] }] } } } },
            { apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: "default" }, spec: { selector: { app: "web" }, ports: [{ port: 8080, targetPort: 8080 }] } },
        ];
        await kubectl(["apply", "-f", "-"], objects.map((o) => JSON.stringify(o)).join("\n"));
        const podWait = await waitFor("the web pod running", async () => {
            const pods = JSON.parse(await kubectl(["get", "pods", "-l", "app=web", "-o", "json"])).items as { status: { phase: string }; spec: { nodeName?: string } }[];
            return pods.some((p) => p.status.phase === "Running" && p.spec.nodeName === worker.name);
        });
        timings.podRunningSec = podWait;
        const webPod = JSON.parse(await kubectl(["get", "pods", "-l", "app=web", "-o", "json"])).items[0].metadata.name as string;
        const pulled = await kubectl(["get", "events", "--field-selector", `involvedObject.name=${webPod}`, "-o", "json"]);
        assert.match(pulled, /Successfully pulled image \\"docker\.io\/groundwork\/tiny:1\.0\\"/, pulled.slice(-2000));
        const client = { apiVersion: "v1", kind: "Pod", metadata: { name: "client", namespace: "default" }, spec: { nodeSelector: { "kubernetes.io/hostname": cp.name }, tolerations: [{ operator: "Exists" }], restartPolicy: "Never", containers: [{ name: "client", image: TINY, command: ["/bin/busybox", "sh", "-c", retried("wget -qO- http://web.default.svc.cluster.local:8080/etc/hostname")] }] } };
        await kubectl(["apply", "-f", "-"], JSON.stringify(client));
        await waitFor("the client pod finished", async () => ["Succeeded", "Failed"].includes(JSON.parse(await kubectl(["get", "pod", "client", "-o", "json"])).status.phase), 900);
        const answer = await kubectl(["logs", "client"]);
        assert.strictEqual(answer.trim(), webPod, `the client on ${cp.name} got "${answer.trim()}" from web.default.svc.cluster.local`);

        if (UPGRADE_TO) return upgrade(UPGRADE_TO);

        // 12. While the apps come up, day 2: a label added to the worker group. The program's converge brings the
        // worker its new bootstrap (only the kubeadm part's join template differs: 1 change) and finds the
        // others' applied; then a second run of every installed bootstrap changes nothing (so it disturbs nothing).
        const day2Stack = parseYaml(fs.readFileSync(STACK, "utf8"));
        day2Stack.config["groundwork:platform"].machines.workers.general.labels = { "node.groundwork.io/rack": "r7" };
        const day2File = path.join(work, "Pulumi.guest-cluster-day2.yaml");
        fs.writeFileSync(day2File, stringifyYaml(day2Stack));
        const day2 = path.join(work, "render-day2");
        execFileSync("node", [path.join(REPO, "bin/groundwork.js"), "render", "--stack-file", day2File, "--out", day2], { stdio: ["ignore", "ignore", "inherit"] });
        const again = Promise.all(
            ([[regGuest, reg], [cpGuest, cp], [workerGuest, worker]] as const).map(async ([g, m]) => {
                const changed = m === worker;
                const converge = await runBootstrap(g, script(m, day2));
                if (changed) {
                    assert.match(converge.output, /converging to bootstrap [0-9a-f]{12} \(applied: [0-9a-f]{64}\)/, converge.output.slice(-800));
                    const n = /done: (\d+) change/.exec(converge.output);
                    timings["day2-worker-changes"] = n ? Number(n[1]) : "?";
                    timings.day2ConvergeSec = converge.seconds;
                    assert.ok(n && n[1] === "1", `the worker's converge should write only its join template:\n${converge.output.slice(-1500)}`);
                    assert.match(converge.output, /wrote \/etc\/groundwork\/kubeadm\/join\.template\.yaml/);
                } else {
                    assert.match(converge.output, /is applied; nothing to converge/, `${m.name}: ${converge.output.slice(-800)}`);
                }
                const start = Date.now();
                note(`day 2: ${m.name} converged in ${converge.seconds}s; running its installed bootstrap again`);
                const output = await sshOk(g, `sudo ${BOOTSTRAP_PATH}`, { timeoutSec: 3600, withStderr: true });
                note(`day 2: ${m.name} ran its bootstrap again in ${(Date.now() - start) / 1000}s`);
                return { m, run: { output, seconds: (Date.now() - start) / 1000 } };
            }),
        );
        again.catch(() => undefined); // awaited below

        // 13. The apps Ready, answering through their Services, the database backed up.
        const roles = Object.entries(stack.apps.workloads as Record<string, { role: string }>);
        const kindOf = (role: string) => (["user-db", "queue", "analytics-db"].includes(role) ? "statefulset" : "deployment");
        await waitFor("every workload ready", async () => {
            const states = await Promise.all(roles.map(async ([name, w]) => JSON.parse(await kubectl(["-n", "apps", "get", kindOf(w.role), name, "-o", "json"])).status as { readyReplicas?: number; replicas?: number }));
            return states.every((st) => (st.readyReplicas ?? 0) >= 1 && st.readyReplicas === st.replicas);
        }, 1800);
        timings.appsReadySec = (Date.now() - appsAppliedAt) / 1000;
        note(`apps ready in ${timings.appsReadySec}s:\n${await kubectl(["-n", "apps", "get", "pods,pvc", "-o", "wide"])}`);
        assert.deepStrictEqual(roles.map(([, w]) => w.role).sort(), ["queue", "static-site", "user-db", "web-api"]);
        // The API and the site answer through their Services, asked by name from a pod on the control plane.
        const ask = { apiVersion: "v1", kind: "Pod", metadata: { name: "ask-apps", namespace: "default" }, spec: { nodeSelector: { "kubernetes.io/hostname": cp.name }, tolerations: [{ operator: "Exists" }], restartPolicy: "Never", containers: [{ name: "ask", image: TINY, command: ["/bin/busybox", "sh", "-c", `${retried("wget -qO- http://api.apps.svc.cluster.local/")} && echo '--' && ${retried("wget -qO- http://site.apps.svc.cluster.local/")} | grep -o '<title>[^<]*</title>'`] }] } };
        await kubectl(["apply", "-f", "-"], JSON.stringify(ask));
        await waitFor("the ask-apps pod finished", async () => ["Succeeded", "Failed"].includes(JSON.parse(await kubectl(["get", "pod", "ask-apps", "-o", "json"])).status.phase), 900);
        const answers = (await kubectl(["logs", "ask-apps"])).split("--").map((x) => x.trim());
        assert.strictEqual(answers[0], "api", `the web API answered "${answers[0]}"`);
        assert.strictEqual(answers[1], "<title>Welcome to nginx!</title>", `the static site answered "${answers[1]}"`);
        // The user database's backup: its CronJob run now, pg_dump over the Service with the generated password, onto its own claim.
        await kubectl(["-n", "apps", "create", "job", "users-backup-now", "--from=cronjob/users-backup"]);
        timings.backupSec = await waitFor("the backup job complete", async () => {
            const st = JSON.parse(await kubectl(["-n", "apps", "get", "job", "users-backup-now", "-o", "json"])).status as { succeeded?: number; conditions?: { type: string; status: string; message?: string }[] };
            const failed = st.conditions?.find((c) => c.type === "Failed" && c.status === "True");
            if (failed) throw new Error(`the backup job failed (${failed.message ?? ""}): ${await kubectl(["-n", "apps", "logs", "job/users-backup-now"]).catch((e: Error) => e.message)}`);
            return (st.succeeded ?? 0) >= 1;
        }, 900);
        const dumps = await sshOk(workerGuest, "sudo ls -l /srv/local-disks/users-backup/");
        assert.match(dumps, /users-\d{8}T\d{6}Z\.dump\n?$/m, dumps);
        note(`apps answered: api "${answers[0]}", site ${answers[1]}; backup in ${timings.backupSec}s: ${dumps.trim().split("\n").pop()}`);

        for (const { m, run } of await again) {
            const changes = /done: (\d+) change/.exec(run.output);
            timings[`rerun-${m.role}`] = changes ? Number(changes[1]) : "?";
            assert.ok(changes && changes[1] === "0", `${m.name}: second run changed something:\n${run.output.slice(-1500)}`);
        }

        // 14. The control plane's certificate report, as its `…-certificates` step reads it for the stack output.
        const report = parseExpiryReport(await sshOk(cpGuest, `sudo ${REPORT_CERTIFICATES_COMMAND}`));
        assert.ok(report, "no certificate in the control plane's report");
        assert.strictEqual(Object.keys(report.certificates).length, 11, JSON.stringify(report));
        const leftDays = (Date.parse(report.earliest) - Date.now()) / 86_400_000;
        assert.ok(leftDays > 363 && leftDays <= 366, `the earliest certificate expires in ${leftDays} days`);
        note(`certificates: ${Object.keys(report.certificates).length} on ${cp.name}, the earliest ${report.earliest}`);

        // The upgrade's Pulumi host (upgrade-program/): the real engine inside the segment's namespace,
        // its state in a file backend. Its first `up` takes the running cluster over as the platform left
        // it (every converge finds its bootstrap applied); then the stack is set to the version `want`
        // with the bootstraps rendered into upOut.
        async function pulumiOnSegment(want: string, upOut: string) {
            const dir = path.join(work, "engine");
            // Each machine's bootstrap as the program gets it (placeholders filled), and its parts' digests from plan.json.
            const scriptsOf = (v: string, from: string) => {
                const folder = path.join(dir, `scripts-${v}`);
                fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
                const planned = JSON.parse(fs.readFileSync(path.join(from, "plan.json"), "utf8")).machines as { name: string; digests: Record<string, string> }[];
                for (const m of machines) {
                    fs.writeFileSync(path.join(folder, `${m.name}.sh`), script(m, from), { mode: 0o600 });
                    fs.writeFileSync(path.join(folder, `${m.name}.digests.json`), JSON.stringify(planned.find((x) => x.name === m.name)!.digests));
                }
                return folder;
            };
            const program = path.join(dir, "program");
            fs.mkdirSync(program, { recursive: true });
            pulumiProject(program, "guest-upgrade", fs.readFileSync(path.join(__dirname, "upgrade-program/index.ts"), "utf8").replace(/"\.\.\/\.\.\/\.\.\/\.\.\//g, `"${REPO}/`));
            const firstBoot = scriptsOf(version, out);
            const input = path.join(dir, "input.json");
            fs.writeFileSync(
                input,
                JSON.stringify({
                    name: stack.name,
                    machines: machines.map((m) => ({ name: m.name, role: m.role, address: m.address })),
                    firstBoot,
                    sshUser: cpGuest.sshUser,
                    keyFile: cpGuest.sshKey,
                    endpoint: `https://${stack.network.vip}:6443`,
                    caFile: path.join(work, "ca.crt"),
                    adminCertFile: path.join(work, "admin.crt"),
                    adminKeyFile: path.join(work, "admin.key"),
                    drainTimeoutSeconds: 1800,
                }),
            );
            // PULUMI_DEBUG_COMMANDS: without it the CLI has no --event-log ("unknown flag").
            const env = { PULUMI_BACKEND_URL: `file://${dir}`, PULUMI_CONFIG_PASSPHRASE: "groundwork-guest-upgrade", PULUMI_NODEJS_TRANSPILE_ONLY: "true", PULUMI_DEBUG_COMMANDS: "true" };
            const pulumi = async (args: string, timeoutSec: number, allowFail = false) => {
                const r = await segment!.exec("env", [...Object.entries(env).map(([k, v]) => `${k}=${v}`), "bash", "-c", `cd '${REPO}' && source tools/toolchain/env.sh && pulumi ${args} --stack upgrade --cwd '${program}' --non-interactive`], { timeoutSec });
                if (r.code !== 0 && !allowFail) throw new Error(`pulumi ${args} (exit ${r.code}):\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-3000)}`);
                return r;
            };
            await pulumi("stack init --secrets-provider passphrase", 300);
            for (const [k, v] of Object.entries({ input, scripts: firstBoot, kubernetesVersion: version })) await pulumi(`config set ${k} '${v}'`, 300);
            const at = Date.now();
            await pulumi("up --yes --skip-preview", 1800);
            timings.engineTakeOverSec = (Date.now() - at) / 1000;
            const steps = JSON.parse((await pulumi("stack output steps --json --show-secrets", 300)).stdout) as { name: string; converge: string }[];
            for (const m of machines) assert.match(steps.find((x) => x.name === m.name)?.converge ?? "", /is applied; nothing to converge/, `${m.name}: ${JSON.stringify(steps)}`);
            note(`upgrade: pulumi up took the cluster over in ${timings.engineTakeOverSec}s (${machines.length} converges found their bootstrap applied)`);
            for (const [k, v] of Object.entries({ scripts: scriptsOf(want, upOut), kubernetesVersion: want })) await pulumi(`config set ${k} '${v}'`, 300);
            return { pulumi };
        }

        // 14b. (tools/test.sh upgrade, in place of steps 12–15) The rolling upgrade to the next minor by
        // `pulumi up` on the real engine (pulumiOnSegment): the new images seeded first; the stack taken over
        // (an up that finds every bootstrap applied); the preview of the version bump; then the up, which
        // runs the platform's Convergence in its waves (the registry, the control plane, the worker): for
        // each node the drain from the Pulumi host, the node's new bootstrap over SSH (packages, `kubeadm
        // upgrade apply` on the first control plane, `upgrade node` on the worker, the kubelet), the
        // uncordon once it is Ready at the new version. The API is asked through the VIP every second
        // during that up; the engine's event log gives the order; a second up finds nothing to do.
        async function upgrade(want: string) {
            const upStack = parseYaml(fs.readFileSync(STACK, "utf8"));
            upStack.config["groundwork:platform"].cluster.kubernetesVersion = want;
            const upFile = path.join(work, "Pulumi.guest-cluster-upgrade.yaml");
            fs.writeFileSync(upFile, stringifyYaml(upStack));
            const upOut = path.join(work, "render-upgrade");
            execFileSync("node", [path.join(REPO, "bin/groundwork.js"), "render", "--stack-file", upFile, "--out", upOut], { stdio: ["ignore", "ignore", "inherit"] });
            const at = Date.now();
            const seeded = execFileSync(
                "node",
                [path.join(REPO, "bin/groundwork.js"), "seed", "--stack-file", upFile, "--from", nextImages!.tar, "--from", appImages.tar, "--ca", tls.caFile, "--connect", `127.0.0.1:${regPort}`],
                { env: { ...process.env, GROUNDWORK_REGISTRY_PASSWORD: password }, stdio: ["ignore", "pipe", "inherit"] },
            ).toString();
            timings.upgradeSeedSec = (Date.now() - at) / 1000;
            note(`upgrade: seed of ${want}'s images (${timings.upgradeSeedSec}s): ${seeded.trim().split("\n").pop()}`);

            type PodState = { uid: string; name: string; restarts: number };
            const podState = (p: any): PodState => ({
                uid: p.metadata.uid,
                name: `${p.metadata.namespace}/${p.metadata.name}`,
                restarts: (p.status.containerStatuses ?? []).reduce((n: number, c: { restartCount: number }) => n + c.restartCount, 0),
            });
            const runningOn = (node: string) => ["get", "pods", "-A", "--field-selector", `spec.nodeName=${node},status.phase=Running`, "-o", "json"];
            const podsOn = async (node: string): Promise<PodState[]> => (JSON.parse(await kubectl(runningOn(node))).items as any[]).map(podState);
            const before = await podsOn(worker.name);
            // The worker's flannel pod: a DaemonSet's, never drained, the same pod with the same containers after the whole rollout.
            const kept = before.find((p) => p.name.startsWith("kube-flannel/"));
            assert.ok(kept, `no flannel pod on ${worker.name}: ${JSON.stringify(before)}`);
            const apps = before.filter((p) => p.name.startsWith("default/web-"));
            assert.strictEqual(apps.length, 1, `the web pod on ${worker.name}: ${JSON.stringify(before)}`);

            // The Pulumi host: the real engine (tools/toolchain) in the segment's namespace, its state in a
            // file backend, running the program of upgrade-program/ over the three guests.
            const engine = await pulumiOnSegment(want, upOut);
            // What the engine plans for the version bump: in-place updates only, of the nodes' rollout steps.
            const preview = JSON.parse((await engine.pulumi("preview --json --diff", 1800)).stdout) as { steps: { op: string; urn: string; oldState?: { inputs: Record<string, any> }; newState?: { inputs: Record<string, any> } }[] };
            const byOp = (op: string) => preview.steps.filter((st) => st.op === op).map((st) => nameOf(st.urn)).sort();
            const regChanged = fs.readFileSync(path.join(upOut, reg.name, "bootstrap.sh"), "utf8") !== fs.readFileSync(path.join(out, reg.name, "bootstrap.sh"), "utf8");
            timings.upgradeRegistryChanged = String(regChanged);
            const c = `${stack.name}-converge`;
            // Hand-written: per node its drain, converge and uncordon, the control plane's certificate report; the registry's converge only if its script changed.
            const expected = [
                ...(regChanged ? [`${c}-${reg.name}`] : []),
                `${c}-${cp.name}-drain`, `${c}-${cp.name}`, `${c}-${cp.name}-uncordon`, `${c}-${cp.name}-certificates`,
                `${c}-${worker.name}-drain`, `${c}-${worker.name}`, `${c}-${worker.name}-uncordon`,
            ].sort();
            assert.deepStrictEqual(byOp("update"), expected, JSON.stringify(preview.steps.map((st) => `${st.op} ${nameOf(st.urn)}`)));
            const other = preview.steps.filter((st) => !["same", "update"].includes(st.op)).map((st) => `${st.op} ${nameOf(st.urn)}`);
            assert.deepStrictEqual(other, [], "a version bump creates, replaces or deletes nothing");
            // Why each machine converges: the parts whose digests the preview shows changed.
            const why = preview.steps
                .filter((st) => st.op === "update" && Object.keys(st.newState?.inputs.environment ?? {}).some((k) => k.startsWith("GROUNDWORK_PART_")))
                .map((st) => {
                    const [was, now] = [st.oldState!.inputs.environment ?? {}, st.newState!.inputs.environment ?? {}];
                    return `${nameOf(st.urn)}: ${Object.keys(now).filter((k) => k.startsWith("GROUNDWORK_PART_") && was[k] !== now[k]).join(", ")}`;
                });
            timings.upgradePreview = `${byOp("update").length} updates, ${byOp("same").length} same, 0 replaced`;
            note(`upgrade: pulumi preview of ${version} → ${want}: ${timings.upgradePreview}\n${why.join("\n")}`);

            // The worker's pods sampled every 5 s through the rollout (the API may be away: a failed sample is skipped).
            const samples: { at: number; pods: PodState[] }[] = [];
            const sampler = repeatEvery(5000, async () => {
                const at = Date.now();
                const r = await segment!.exec(path.join(bin, "kubectl"), ["--kubeconfig", kubeconfig, "--request-timeout=4s", ...runningOn(worker.name)], { timeoutSec: 10 }).catch(() => undefined);
                if (r && r.code === 0) samples.push({ at, pods: (JSON.parse(r.stdout).items as any[]).map(podState) });
            });

            // The VIP asked every second (one kept-alive client): each answer "ok" or a failure, and the stretches of failures.
            const poll = { ok: 0, failed: 0, outages: [] as { from: number; to: number }[], down: undefined as number | undefined, why: new Map<string, number>() };
            const vipClient = readyzClient(await segment!.forward(stack.network.vip, 6443), stack.network.vip, secrets.caCertPem);
            let diagnosed = false;
            const poller = repeatEvery(1000, async () => {
                const asked = Date.now();
                const answer = await vipClient.ask();
                if (answer === "ok") {
                    poll.ok++;
                    if (poll.down !== undefined) poll.outages.push({ from: poll.down, to: asked });
                    poll.down = undefined;
                } else {
                    poll.failed++;
                    poll.down ??= asked;
                    const why = answer.replace(/[0-9.]+:\d+/g, "ADDR").slice(0, 120);
                    poll.why.set(why, (poll.why.get(why) ?? 0) + 1);
                    // The control plane as it was a minute into the first long outage: kept for the log, never asserted on.
                    if (!diagnosed && asked - poll.down >= 60_000) {
                        diagnosed = true;
                        void diagnose("the VIP away for a minute during the upgrade", UPGRADE_DIAGNOSE);
                    }
                }
            });

            // What the rollout did to running pods: asserted at the end, after every figure is taken.
            const problems: string[] = [];
            const rollout = Date.now();
            const events = path.join(work, "engine", "upgrade-events.jsonl");
            let up: { code: number; stdout: string; stderr: string };
            try {
                up = await engine.pulumi(`up --yes --skip-preview --event-log '${events}'`, 5400, true);
            } finally {
                await poller.stop();
                vipClient.close();
                await sampler.stop();
                if (poll.down !== undefined) poll.outages.push({ from: poll.down, to: Date.now() });
            }
            const upgradeSec = (Date.now() - rollout) / 1000;
            timings.upgradeSec = upgradeSec;
            const total = poll.ok + poll.failed;
            const longest = Math.max(0, ...poll.outages.map((o) => (o.to - o.from) / 1000));
            timings.upgradeApiRequests = `${poll.failed} failed of ${total}`;
            timings.upgradeApiOutages = poll.outages.length;
            timings.upgradeApiLongestOutageSec = longest;
            note(`upgrade to ${want} by pulumi up: ${timings.upgradeSec}s; the VIP asked ${total} times, ${poll.failed} failed, in ${poll.outages.length} stretch(es), the longest ${longest}s (one control plane: its API server restarts once)`);
            note(`upgrade: pulumi up (exit ${up.code}):\n${up.stdout.split("\n").filter((l) => /^\s*[~+-]|Resources:|updated|Duration/.test(l)).join("\n").slice(-3000)}`);
            if (poll.why.size > 0) note(`upgrade: why the VIP's answers failed: ${[...poll.why].map(([w, n]) => `${n}× ${w}`).join("; ")}`);
            if (up.code !== 0) void diagnose("the upgrade's pulumi up failed", UPGRADE_DIAGNOSE);
            for (const d of diagnoses) note(`control plane diagnosis ${await d}`);
            diagnoses.length = 0;
            assert.strictEqual(up.code, 0, `pulumi up of the upgrade failed:\n${up.stdout.slice(-4000)}\n${up.stderr.slice(-3000)}`);
            assert.ok(total >= upgradeSec * 0.5, `the VIP was asked only ${total} times in ${upgradeSec}s`);
            // Each step's output, from the stack's outputs.
            const out$ = JSON.parse((await engine.pulumi("stack output steps --json --show-secrets", 600)).stdout) as { name: string; drain?: string; converge: string; uncordon?: string; certificates?: string }[];
            const stepOf = (name: string) => out$.find((x) => x.name === name)!;
            for (const m of [cp, worker]) {
                const st = stepOf(m.name);
                note(`upgrade: ${m.name}: ${st.drain?.trim()}\n${st.converge.split("\n").filter((l) => /kubeadm|kubernetes:|kube-vip|done:/.test(l)).join("\n")}\n${st.uncordon?.trim()}`);
                assert.match(st.drain ?? "", new RegExp(`drain ${m.name}: cordoned \\(kubelet v${literal(version)} → v${literal(want)}\\)`));
                assert.match(st.converge, new RegExp(`kubeadm: ${m.name} upgraded to ${literal(want)} in \\d+s`), st.converge.slice(-3000));
                assert.match(st.converge, m === cp ? new RegExp(`kubeadm: upgrade apply v${literal(want)}`) : /kubeadm: upgrade node/);
                assert.match(st.uncordon ?? "", new RegExp(`uncordon ${m.name}: Ready at v${literal(want)}; uncordoned`));
            }
            // The engine's own record of the order: each step ended before the next began.
            const order = [`${c}-${cp.name}-drain`, `${c}-${cp.name}`, `${c}-${cp.name}-uncordon`, `${c}-${worker.name}-drain`, `${c}-${worker.name}`, `${c}-${worker.name}-uncordon`];
            const span = stepSpans(fs.readFileSync(events, "utf8"));
            for (const n of order) assert.ok(span[n]?.end !== undefined, `the event log has no end of ${n}: ${JSON.stringify(span)}`);
            for (let i = 1; i < order.length; i++) assert.ok(span[order[i - 1]].end! < span[order[i]].start, `${order[i]} began before ${order[i - 1]} ended: ${JSON.stringify(span)}`);
            for (const m of [cp, worker]) timings[`upgrade-${m.role}Sec`] = span[`${c}-${m.name}-uncordon`].endAt! - span[`${c}-${m.name}-drain`].startAt;
            note(`upgrade: the engine's steps (s): ${order.map((n) => `${n} ${span[n].endAt! - span[n].startAt}`).join(", ")}`);
            // The worker's pods ran on through the control plane's upgrade: every sample from the control plane's
            // drain to the worker's drain shows the same web pod, never restarted; the worker's drain evicted that very pod.
            const cpWave = samples.filter((x) => x.at / 1000 >= span[`${c}-${cp.name}-drain`].startAt && x.at / 1000 < span[`${c}-${worker.name}-drain`].startAt);
            const afterCp = cpWave.filter((x) => x.at / 1000 >= span[`${c}-${cp.name}`].endAt!);
            for (const p of apps) {
                for (const x of cpWave) {
                    const now = x.pods.find((q) => q.uid === p.uid);
                    if (!(now && now.restarts === p.restarts)) problems.push(`${p.name} on ${worker.name} at ${new Date(x.at).toISOString()} (during ${cp.name}'s upgrade): before ${JSON.stringify(p)}, then ${JSON.stringify(now)}`);
                }
                if (!new RegExp(`evicting ${literal(p.name)}`).test(stepOf(worker.name).drain ?? "")) problems.push(`the worker's drain did not evict ${p.name}: ${stepOf(worker.name).drain}`);
            }
            timings.upgradeWorkerPodsThroughControlPlane = `${apps.length} pod(s), ${cpWave.length} samples during ${cp.name}'s wave (${afterCp.length} after its converge)`;
            assert.ok(cpWave.length > 0, "no sample of the worker's pods during the control plane's upgrade");
            // The engine finds nothing left to do.
            const again = await engine.pulumi("up --yes --skip-preview --expect-no-changes", 1800, true);
            assert.strictEqual(again.code, 0, `a second pulumi up had changes:\n${again.stdout.slice(-3000)}`);
            timings.upgradeSecondUp = (again.stdout.match(/(\d+) unchanged/) ?? ["", "?"])[1] + " unchanged";
            // The state holds what grants access only encrypted: the SSH key, the admin's key, the registry's password (in every bootstrap).
            const state = (await engine.pulumi("stack export", 600)).stdout;
            const body = (pem: string) => pem.split("\n").filter((l) => l && !l.startsWith("-----")).join("");
            const clear = Object.entries({ "the SSH private key": body(fs.readFileSync(cpGuest.sshKey, "utf8")).slice(0, 40), "the admin key": body(secrets.adminKeyPem).slice(0, 40), "the registry password": password }).filter(([, v]) => state.includes(v));
            assert.deepStrictEqual(clear.map(([k]) => k), [], "in clear in pulumi stack export");
            // …and they are there, as Pulumi's secret values (its signature key).
            assert.match(state, /"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"/);
            timings.upgradeStateBytes = state.length;

            // Every node at the new version, the API server, kube-proxy and etcd at the new minor's.
            const nodes = JSON.parse(await kubectl(["get", "nodes", "-o", "json"])).items as { metadata: { name: string }; status: { nodeInfo: { kubeletVersion: string } }; spec: { unschedulable?: boolean } }[];
            assert.deepStrictEqual(nodes.map((n) => `${n.metadata.name} ${n.status.nodeInfo.kubeletVersion} ${n.spec.unschedulable ? "cordoned" : "schedulable"}`).sort(), [`${cp.name} v${want} schedulable`, `${worker.name} v${want} schedulable`]);
            const server = JSON.parse(await kubectl(["version", "-o", "json"])).serverVersion.gitVersion;
            assert.strictEqual(server, `v${want}`);
            const etcdImage = JSON.parse(await kubectl(["-n", "kube-system", "get", "pod", `etcd-${cp.name}`, "-o", "json"])).spec.containers[0].image as string;
            const proxyImage = JSON.parse(await kubectl(["-n", "kube-system", "get", "daemonset", "kube-proxy", "-o", "json"])).spec.template.spec.containers[0].image as string;
            note(`upgrade: API server ${server}, etcd ${etcdImage}, kube-proxy ${proxyImage}`);
            assert.match(etcdImage, /etcd:3\.6\.4-0$/);
            assert.match(proxyImage, new RegExp(`kube-proxy:v${literal(want)}$`));
            // The worker's flannel pod: the same pod, its containers never restarted, through drain, packages, kubelet restart.
            const after = await podsOn(worker.name);
            const flannel = after.find((p) => p.uid === kept!.uid);
            if (!(flannel && flannel.restarts === kept!.restarts)) problems.push(`${kept!.name} on ${worker.name} was replaced or restarted: before ${JSON.stringify(kept)}, after ${JSON.stringify(flannel)}`);
            // The drained apps back on the uncordoned worker.
            timings.upgradeAppsBackSec = await waitFor("the web Deployment ready again after the upgrade", async () => {
                const st = JSON.parse(await kubectl(["-n", "default", "get", "deployment", "web", "-o", "json"])).status as { readyReplicas?: number };
                return (st.readyReplicas ?? 0) === 1;
            }, 1800);
            note(`upgrade: ${kept!.name} on ${worker.name}: ${flannel && flannel.restarts === kept!.restarts ? `kept running (the same pod, restarts ${kept!.restarts})` : "replaced or restarted"}; the web Deployment ready again ${timings.upgradeAppsBackSec}s after the rollout`);
            // A second run of each upgraded node's bootstrap changes nothing.
            for (const [g, m] of [[cpGuest, cp], [workerGuest, worker]] as const) {
                const rerun = await sshOk(g, `sudo ${BOOTSTRAP_PATH}`, { timeoutSec: 3600, withStderr: true });
                const n = /done: (\d+) change/.exec(rerun);
                timings[`upgrade-rerun-${m.role}`] = n ? Number(n[1]) : "?";
                assert.ok(n && n[1] === "0", `${m.name}: a second run after the upgrade changed something:\n${rerun.slice(-1500)}`);
            }
            assert.deepStrictEqual(problems, []);
        }

        // 15. The worker leaves the platform, as `pulumi up` without it runs it: first its leave from the
        // Pulumi host through the VIP (cordon, every app pod on it evicted through the Eviction API by its
        // real kubelet, the Node deleted), then the reset.sh render wrote for it, run as the program's delete
        // runs it on a bare-metal host (asRoot: bash -c as root over SSH); then what is left on it; a
        // second run changes nothing. kubeadm keeps its (emptied) folders and containerd makes
        // /etc/cni/net.d again when it starts: no file may be left in them.
        t = Date.now();
        const left0 = await fromHost("leave", worker, NODE_LEAVE_SCRIPT, { GROUNDWORK_ROLE: "worker", GROUNDWORK_TIMEOUT: "900" }, 1200);
        timings.leaveSec = (Date.now() - t) / 1000;
        note(`the worker's leave (${timings.leaveSec}s):\n${left0.stdout.trim()}${left0.stderr.trim()}`);
        assert.strictEqual(left0.code, 0, left0.stdout + left0.stderr);
        assert.match(left0.stdout, new RegExp(`leave ${worker.name}: cordoned`));
        assert.match(left0.stdout, new RegExp(`leave ${worker.name}: evicting apps/`));
        assert.match(left0.stdout, new RegExp(`leave ${worker.name}: drained`));
        assert.match(left0.stdout, new RegExp(`leave ${worker.name}: Node deleted`));
        const remaining = (JSON.parse(await kubectl(["get", "nodes", "-o", "json"])).items as { metadata: { name: string } }[]).map((n) => n.metadata.name);
        assert.deepStrictEqual(remaining, [cp.name]);
        const reset = fs.readFileSync(path.join(out, worker.name, "reset.sh"), "utf8");
        t = Date.now();
        const resetRun = await sshOk(workerGuest, asRoot(reset), { timeoutSec: 900, withStderr: true });
        timings.resetSec = (Date.now() - t) / 1000;
        assert.match(resetRun, /reset: kubeadm reset/, resetRun.slice(-2000));
        assert.match(resetRun, /reset: containerd restarted without groundwork's configuration/, resetRun.slice(-2000));
        assert.match(resetRun, /reset of gwk-worker-1 done: [1-9]\d* change\(s\)/, resetRun.slice(-2000));
        const left = await sshOk(
            workerGuest,
            "sudo bash -c 'find /etc/kubernetes /etc/cni/net.d -type f -printf \"file %p\\n\" 2>/dev/null; for p in /etc/groundwork /var/lib/groundwork /usr/local/sbin/groundwork-bootstrap /etc/containerd/config.toml /usr/local/share/ca-certificates/groundwork; do [ -e $p ] && echo \"left $p\"; done; echo \"kubelet $(systemctl is-active kubelet || true) $(systemctl is-enabled kubelet || true)\"; echo \"containerd $(systemctl is-active containerd)\"; ls /srv/local-disks'",
        );
        assert.doesNotMatch(left, /^(left|file) /m, left);
        assert.match(left, /^kubelet inactive disabled$/m, left);
        assert.match(left, /^containerd active$/m, left);
        assert.match(left, /users-backup/, `the data center's disks are not groundwork's to remove:\n${left}`);
        const resetAgain = await sshOk(workerGuest, asRoot(reset), { timeoutSec: 300, withStderr: true });
        assert.match(resetAgain, /reset of gwk-worker-1 done: 0 change\(s\)/, resetAgain.slice(-1500));
        note(`worker reset in ${timings.resetSec}s; again: 0 changes`);
    });
});
