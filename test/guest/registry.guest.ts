/**
 * Real guests: the standalone registry comes up from its rendered bootstrap with TLS and
 * htpasswd auth; an image pushed to it from the host is pulled by containerd on a second guest
 * through the rendered hosts.toml mirror for docker.io.
 *
 * Guests are air-gapped (qemu restrict=on): they reach only the host's apt mirror. The two
 * guests reach each other over SSH tunnels the test owns (registry guest :5000 → host loopback
 * port → node guest's 127.0.0.1:5000), and the node maps the registry's name to 127.0.0.1 in
 * /etc/hosts, standing in for the data center's DNS. The TLS material comes from openssl here
 * (the component makes the same shape with @pulumi/tls); the htpasswd line is bcrypt, hashed on the host.
 */
import * as assert from "assert";
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { renderBootstrapScript, renderUserData } from "../../components/engine/bootstrap";
import { DEFAULT_ENGINE_PACKAGES, engineConfig } from "../../components/engine/config";
import { engineParts } from "../../components/engine/engines";
import { registryConfig } from "../../components/registry/config";
import { clusterRegistryWiring, engineWithRegistry, registryEndpoint } from "../../components/registry/endpoint";
import { STANDALONE_REGISTRY_PACKAGES, standaloneRegistryParts } from "../../components/registry/render-standalone";
import { bootGuest, ensureBaseImage, Guest, MIRROR_GUEST_URL, Mirror, sshOk, startMirror } from "../support/guest";
import { bcrypt, makeCa, serverCert } from "../support/pki";
import { anonymousStatus, checkRegistry, pushOciTarball, PushTarget } from "../registry/oci-push";

const REGISTRY_HOST = "registry.groundwork.test";
const IMAGE = "docker.io/groundwork/tiny:1.0";
const SSH_KEY = path.join(process.env.GROUNDWORK_CACHE ?? path.join(os.homedir(), ".cache/groundwork"), "guest/ssh/id_ed25519");
const REPO = path.resolve(__dirname, "../..");

const t0 = Date.now();
const since = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
const note = (msg: string) => process.stderr.write(`[registry.guest +${since()}] ${msg}\n`);

function freePort(): number {
    return Number(execFileSync("python3", ["-c", 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])']).toString());
}

/** `ssh -N` with a forward (-L or -R) into a guest; resolves once the forward answers. */
async function tunnel(guest: Guest, flag: "-L" | "-R", spec: string): Promise<ChildProcess> {
    const args = ["-N", "-i", SSH_KEY, "-p", String(guest.sshPort), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes", "-o", "LogLevel=ERROR", flag, spec, `${guest.sshUser}@127.0.0.1`];
    const child = spawn("ssh", args, { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    // Under load (TCG guests next to Go builds) ssh takes a while to log in: wait for the forward itself, not a fixed time.
    const [bindAddr, bindPort] = spec.split(":");
    for (let i = 0; i < 120; i++) {
        await new Promise((r) => setTimeout(r, 1000));
        if (child.exitCode !== null) throw new Error(`ssh ${flag} ${spec} exited: ${err.trim()}`);
        const up =
            flag === "-L"
                ? await new Promise<boolean>((r) => net.connect(Number(bindPort), bindAddr).on("connect", function (this: net.Socket) { this.destroy(); r(true); }).on("error", () => r(false)))
                : (await guest.ssh(`ss -Hltn 'sport = :${bindPort}' | grep -q .`, { timeoutSec: 30 })).code === 0;
        if (up) return child;
    }
    child.kill("SIGTERM");
    throw new Error(`ssh ${flag} ${spec}: the forward did not come up in 120 s: ${err.trim()}`);
}

function stopChild(child: ChildProcess | undefined): void {
    if (child?.pid !== undefined && child.exitCode === null) child.kill("SIGTERM");
}

describe("standalone registry in real guests", function () {
    this.timeout(90 * 60 * 1000);
    const timings: Record<string, number | string> = {};
    let mirror: Mirror | undefined;
    let registryGuest: Guest | undefined;
    let nodeGuest: Guest | undefined;
    const tunnels: ChildProcess[] = [];
    let work: string;

    after(async () => {
        tunnels.forEach(stopChild);
        await nodeGuest?.stop();
        await registryGuest?.stop();
        await mirror?.stop();
        if (work) fs.rmSync(work, { recursive: true, force: true });
        note(`timings: ${JSON.stringify(timings)}`);
    });

    it("serves a pushed image over TLS with auth to containerd on a second guest through the rendered mirror", async () => {
        work = fs.mkdtempSync(path.join(os.tmpdir(), "gw-registry-guest-"));
        await ensureBaseImage();
        mirror = await startMirror([...Object.keys(STANDALONE_REGISTRY_PACKAGES), ...Object.keys(DEFAULT_ENGINE_PACKAGES.containerd)]);
        note(`mirror on 127.0.0.1:${mirror.port}: ${mirror.packageCount} packages, ${mirror.sizeMiB} MiB`);

        const ca = makeCa(work, "groundwork test registry CA");
        const server = serverCert(work, ca, REGISTRY_HOST);
        const tlsFiles = { caPem: ca.pem, certPem: server.certPem, keyPem: server.keyPem };
        const password = crypto.randomBytes(18).toString("base64url");
        const engine = engineConfig.parse({ packageSource: { kind: "mirror", url: MIRROR_GUEST_URL, trusted: true } });
        const endpoint = registryEndpoint(registryConfig.parse({ mode: "standalone", hostname: REGISTRY_HOST }), [], tlsFiles.caPem)!;
        assert.strictEqual(endpoint.authority, `${REGISTRY_HOST}:5000`);

        // 1. The registry machine, from its rendered bootstrap.
        const regIdentity = { hostname: "gw-registry", sshUser: "debian", sshAuthorizedKeys: [] };
        const regParts = standaloneRegistryParts(engine, { host: REGISTRY_HOST, ...tlsFiles, htpasswd: `groundwork:${bcrypt(password)}` });
        const regScript = renderBootstrapScript(regIdentity, regParts);
        registryGuest = await bootGuest({ name: "gw-registry", userData: renderUserData(regIdentity, regScript), mirrorPort: mirror.port });
        const regInit = await registryGuest.waitCloudInit();
        timings.registrySshUpSec = registryGuest.timings.sshUpSec ?? "?";
        timings.registryCloudInitSec = regInit.seconds;
        note(`registry guest cloud-init ${regInit.status} after ${regInit.seconds}s (accel ${registryGuest.accel})`);
        const bootLog = await sshOk(registryGuest, "sudo cat /var/log/cloud-init-output.log");
        assert.match(bootLog, /registry: https:\/\/registry\.groundwork\.test:5000\/v2\/ is up \(TLS, htpasswd auth\)/, bootLog.slice(-1500));
        assert.strictEqual(regInit.status, "done", regInit.output);
        assert.strictEqual((await sshOk(registryGuest, "systemctl is-active docker-registry")).trim(), "active");
        assert.strictEqual((await sshOk(registryGuest, "sudo stat -c %U:%G:%a /etc/groundwork/registry/tls/registry.key")).trim(), "root:docker-registry:640");
        // A second run of the same script rewrites no registry file and does not restart the registry.
        const rerun = await sshOk(registryGuest, "sudo /usr/local/sbin/groundwork-bootstrap 2>&1");
        assert.match(rerun, /registry: https:\/\/registry\.groundwork\.test:5000\/v2\/ is up/, rerun.slice(-800));
        assert.doesNotMatch(rerun, /wrote \/etc\/groundwork\/registry|registry: \(re\)starting/, rerun.slice(-800));
        timings.rerunChanges = /done: (\d+) change/.exec(rerun)?.[1] ?? "?";

        // 2. Push from the host through a tunnel, TLS verified against the CA by name.
        const hostPort = freePort();
        tunnels.push(await tunnel(registryGuest, "-L", `127.0.0.1:${hostPort}:127.0.0.1:5000`));
        const target: PushTarget = { host: REGISTRY_HOST, connectAddress: "127.0.0.1", connectPort: hostPort, port: 5000, caPem: tlsFiles.caPem, username: "groundwork", password };
        assert.strictEqual(await anonymousStatus(target), 401);
        assert.strictEqual(await checkRegistry({ ...target, password: "wrong" }), 401);
        assert.strictEqual(await checkRegistry(target), 200);
        const tarball = path.join(work, "tiny.tar");
        execFileSync(path.join(REPO, "tools/guest/tiny-image.sh"), [tarball, "groundwork/tiny:1.0"], { stdio: ["ignore", "ignore", "pipe"] });
        const push = await pushOciTarball(tarball, "groundwork/tiny", "1.0", target);
        timings.pushSec = push.seconds;
        timings.pushBytes = push.bytes;
        note(`pushed ${IMAGE} as ${push.manifestDigest}: ${push.blobs} blobs, ${push.bytes} bytes in ${push.seconds}s`);

        // 3. A node whose engine files come from the engine renderers with the registry wired in.
        const wired = engineWithRegistry(engine, endpoint);
        const nodeIdentity = { hostname: "gw-node", sshUser: "debian", sshAuthorizedKeys: [] };
        const nodeScript = renderBootstrapScript(nodeIdentity, engineParts(wired, clusterRegistryWiring(endpoint)));
        nodeGuest = await bootGuest({ name: "gw-node", userData: renderUserData(nodeIdentity, nodeScript), mirrorPort: mirror.port });
        const nodeInit = await nodeGuest.waitCloudInit();
        timings.nodeSshUpSec = nodeGuest.timings.sshUpSec ?? "?";
        timings.nodeCloudInitSec = nodeInit.seconds;
        note(`node guest cloud-init ${nodeInit.status} after ${nodeInit.seconds}s`);
        assert.strictEqual(nodeInit.status, "done", nodeInit.output);
        const hostsToml = await sshOk(nodeGuest, "cat /etc/containerd/certs.d/docker.io/hosts.toml");
        assert.match(hostsToml, /\[host\."https:\/\/registry\.groundwork\.test:5000"\]/);

        tunnels.push(await tunnel(nodeGuest, "-R", `127.0.0.1:5000:127.0.0.1:${hostPort}`));
        await sshOk(nodeGuest, `echo '127.0.0.1 ${REGISTRY_HOST}' | sudo tee -a /etc/hosts >/dev/null`);
        const pullStart = Date.now();
        const pull = await sshOk(nodeGuest, `sudo ctr -n k8s.io images pull --hosts-dir /etc/containerd/certs.d --user 'groundwork:${password}' ${IMAGE} 2>&1`);
        timings.pullSec = (Date.now() - pullStart) / 1000;
        note(`pulled on the node in ${timings.pullSec}s`);
        assert.match(pull, /done/, pull);
        assert.match(await sshOk(nodeGuest, "sudo ctr -n k8s.io images ls -q"), /docker\.io\/groundwork\/tiny:1\.0/);
        const run = await sshOk(nodeGuest, `sudo ctr -n k8s.io run --rm ${IMAGE} tiny-1`);
        assert.strictEqual(run.trim(), "hello");
        // The registry saw the node resolve the docker.io name through the mirror (containerd adds ?ns=docker.io there).
        const journal = await sshOk(registryGuest, "sudo journalctl -u docker-registry --no-pager -o cat | grep -F 'ns=docker.io' | grep -v 'level=' || true");
        assert.match(journal, /"(HEAD|GET) \/v2\/groundwork\/tiny\/manifests\/1\.0\?ns=docker\.io HTTP\/[0-9.]+" 200 /, journal.slice(-1500));
        note(`registry access log for the node's pull:\n${journal.trim()}`);
    });
});
