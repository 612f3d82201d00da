/**
 * What containerd itself makes of the configuration we render: Debian's containerd (the version
 * nodes install, unpacked from its .deb) runs config.toml and certs.d/*\/hosts.toml exactly as the
 * engine layer renders them for an air-gapped stack, and kubelet's way of pulling (CRI, through
 * crictl) fetches docker.io/groundwork/tiny:1.0 from a real registry (Debian's docker-registry,
 * TLS + htpasswd). Everything runs in a private network and mount namespace: loopback only,
 * /etc/hosts naming the registry, any port (443 included) free.
 *
 * Only the machine's paths are moved into the scratch folder (containerd's root, state and
 * socket, config_path, the trust-store folder); every other byte is as rendered.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { stackFilePath } from "../../cli/stackfile";
import { engineParts } from "../../components/engine/engines";
import { parsePlatform, SECRET_KEYS, SecretName } from "../../components/platform/config";
import { nodeEngine } from "../../components/platform/wiring";
import { ensureDebianContainerd } from "../support/debian-containerd";
import { k8sBinary } from "../support/kubernetes";
import { bcrypt, makeCa, serverCert, TestCa } from "../support/pki";

const REPO = path.resolve(__dirname, "../..");
const TRUST_DIR = "/usr/local/share/ca-certificates/groundwork/";
const PASSWORD = "containerd-pull-test";

interface Case {
    stack: string;
    /** The registry's name and port as the stack configures them. */
    host: string;
    port: number;
    /** Where the test pushes the image in the registry, and the manifest path containerd must ask for. */
    repository: string;
}

const CASES: Case[] = [
    // A standalone registry: docker.io's images under the same paths.
    { stack: "customer-dc", host: "registry.cdc.customer.example", port: 5000, repository: "groundwork/tiny" },
    // Harbor: docker.io through the `dockerhub` proxy-cache project (override_path).
    { stack: "prod", host: "harbor.prod.example", port: 443, repository: "dockerhub/groundwork/tiny" },
];

function spec(name: string) {
    const raw = parseYaml(fs.readFileSync(stackFilePath(name), "utf8")).config["groundwork:platform"];
    const { spec, problems } = parsePlatform(raw, new Set<SecretName>(Object.keys(SECRET_KEYS) as SecretName[]));
    assert.deepStrictEqual(problems, []);
    return spec!;
}

describe("engine: Debian's containerd pulls through the configuration we render (CRI, air-gapped)", function () {
    this.timeout(300_000);
    let work: string;
    let tiny: string;
    let binDir: string;
    let version: string;
    let ca: TestCa;

    before(() => {
        ({ binDir, version } = ensureDebianContainerd());
        work = fs.mkdtempSync(path.join(os.tmpdir(), "gw-containerd-pull-"));
        tiny = path.join(work, "tiny.tar");
        execFileSync(path.join(REPO, "tools/guest/tiny-image.sh"), [tiny, "groundwork/tiny:1.0"], { stdio: ["ignore", "ignore", "pipe"] });
        ca = makeCa(work, "containerd pull test CA");
    });
    after(() => {
        if (work) fs.rmSync(work, { recursive: true, force: true });
    });

    for (const c of CASES) {
        const authority = c.port === 443 ? c.host : `${c.host}:${c.port}`;
        it(`${c.stack}: crictl pull docker.io/groundwork/tiny:1.0 is served by ${authority}/v2/${c.repository}, never the upstream`, () => {
            const d = path.join(work, c.stack);
            fs.mkdirSync(path.join(d, "certs"), { recursive: true });
            serverCert(d, ca, c.host);
            const caPem = ca.pem;
            fs.writeFileSync(path.join(d, "certs", "ca.crt"), caPem); // skopeo's --dest-cert-dir
            fs.writeFileSync(path.join(d, "htpasswd"), `groundwork:${bcrypt(PASSWORD, 16)}\n`);
            fs.writeFileSync(
                path.join(d, "registry.yml"),
                [
                    "version: 0.1",
                    `storage: { filesystem: { rootdirectory: ${d}/data } }`,
                    `http: { addr: "127.0.0.1:${c.port}", tls: { certificate: ${d}/server.crt, key: ${d}/server.key } }`,
                    `auth: { htpasswd: { realm: containerd-pull-test, path: ${d}/htpasswd } }`,
                    "",
                ].join("\n"),
            );

            // The engine layer's files for this stack, the registry credential included.
            const { engine, engineOptions } = nodeEngine(spec(c.stack), { caPem, auth: { authority, username: "groundwork", password: PASSWORD } });
            const files = engineParts(engine, engineOptions).flatMap((p) => p.files);
            const moved = (text: string) => text.split("/etc/containerd/certs.d").join(`${d}/certs.d`).split(TRUST_DIR).join(`${d}/trust/`);
            let hostsTomls = 0;
            for (const f of files) {
                let target: string | undefined;
                if (f.path === "/etc/containerd/config.toml") target = path.join(d, "config.toml");
                else if (f.path.startsWith("/etc/containerd/certs.d/")) target = path.join(d, "certs.d", f.path.slice("/etc/containerd/certs.d/".length));
                else if (f.path.startsWith(TRUST_DIR)) target = path.join(d, "trust", f.path.slice(TRUST_DIR.length));
                if (!target) continue;
                if (target.endsWith("hosts.toml")) hostsTomls++;
                fs.mkdirSync(path.dirname(target), { recursive: true });
                let content = moved(String(f.content));
                if (f.path === "/etc/containerd/config.toml") {
                    assert.match(content, /^version = 2$/m);
                    content = content.replace(/^version = 2$/m, `version = 2\nroot = "${d}/root"\nstate = "${d}/state"\n\n[grpc]\n  address = "${d}/containerd.sock"\n`);
                }
                fs.writeFileSync(target, content);
            }
            assert.ok(hostsTomls >= 2, `${hostsTomls} hosts.toml rendered`);
            assert.ok(fs.existsSync(path.join(d, "certs.d", "docker.io", "hosts.toml")));

            const crictl = `${k8sBinary("crictl")} --config /dev/null --runtime-endpoint unix://${d}/containerd.sock --image-endpoint unix://${d}/containerd.sock --timeout 60s`;
            const driver = [
                "set -u",
                "ip link set lo up",
                `cp /etc/hosts ${d}/hosts && echo "127.0.0.1 ${c.host}" >> ${d}/hosts && mount --bind ${d}/hosts /etc/hosts`,
                `/usr/bin/docker-registry serve ${d}/registry.yml > ${d}/registry.log 2>&1 & reg=$!`,
                `PATH=${binDir}:$PATH containerd --config ${d}/config.toml > ${d}/containerd.log 2>&1 & ctr=$!`,
                "trap 'kill $reg $ctr 2>/dev/null; wait' EXIT",
                `for _ in $(seq 300); do [ -S ${d}/containerd.sock ] && (exec 3<>/dev/tcp/127.0.0.1/${c.port}) 2>/dev/null && break; sleep 0.1; done`,
                `skopeo copy -q --dest-creds groundwork:${PASSWORD} --dest-cert-dir ${d}/certs oci-archive:${tiny} docker://${authority}/${c.repository}:1.0 || { echo "push failed"; exit 1; }`,
                `${crictl} pull docker.io/groundwork/tiny:1.0 2>&1; echo "pull exit $?"`,
                `${crictl} images 2>&1`,
            ].join("\n");
            const out = execFileSync("unshare", ["-mn", "bash", "-c", driver], { encoding: "utf8", timeout: 240_000 });
            const containerdLog = fs.readFileSync(path.join(d, "containerd.log"), "utf8");
            const registryLog = fs.readFileSync(path.join(d, "registry.log"), "utf8");
            const context = `${out}\n--- containerd ${version} (errors) ---\n${containerdLog.split("\n").filter((l) => /level=error/.test(l) && !/cni/i.test(l)).join("\n")}`;
            assert.match(out, /pull exit 0/, context);
            assert.match(out, /Image is up to date for sha256:[0-9a-f]{64}/, context);
            assert.match(out, /docker\.io\/groundwork\/tiny\s+1\.0\s+[0-9a-f]{13}/, context);
            // containerd read every hosts.toml it needed, and asked the registry, not Docker Hub.
            assert.doesNotMatch(containerdLog, /failed to decode hosts\.toml/, context);
            assert.doesNotMatch(containerdLog, /registry-1\.docker\.io/, context);
            assert.match(registryLog, new RegExp(`"(HEAD|GET) /v2/${c.repository}/manifests/1\\.0(\\?ns=docker\\.io)? HTTP/[0-9.]+" 200 .*containerd`), registryLog.slice(-2000));
        });
    }
});
