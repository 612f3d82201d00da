import * as assert from "assert";
import * as fc from "fast-check";
import {
    APT_PROXY_FILE,
    APT_SOURCE_FILE,
    CERTS_D,
    caFileName,
    bypassesProxy,
    CONTAINERD_CONFIG,
    DOCKER_DAEMON_JSON,
    EngineConfig,
    engineConfig,
    engineModule,
    engineParts,
    enginePackages,
    engineProblems,
    ENGINES,
    engineKinds,
    renderContainerdConfig,
    renderDaemonJson,
    renderBootstrapScript,
    renderHostsToml,
    sandboxImage,
} from "../../components/engine";

const CA = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUTEST\n-----END CERTIFICATE-----";
const CA2 = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUOTHER\n-----END CERTIFICATE-----";

/** The happy path every test changes one thing of. */
function config(over: Record<string, unknown> = {}): EngineConfig {
    return engineConfig.parse({ mirrors: [{ host: "docker.io", endpoints: ["https://harbor.example/v2/dockerhub"] }], caCertificates: [CA], ...over });
}

function file(c: EngineConfig, p: string, opts = {}): string | undefined {
    return engineParts(c, opts).flatMap((x) => x.files).find((f) => f.path === p)?.content;
}

describe("engine: containerd config.toml and hosts.toml", () => {
    it("uses the systemd cgroup driver, certs.d, and the default sandbox image", () => {
        const toml = renderContainerdConfig(config());
        assert.match(toml, /^version = 2$/m);
        assert.match(toml, /\[plugins\."io\.containerd\.grpc\.v1\.cri"\.containerd\.runtimes\.runc\.options\]\n {2}SystemdCgroup = true/);
        assert.match(toml, /config_path = "\/etc\/containerd\/certs\.d"/);
        assert.match(toml, /sandbox_image = "registry\.k8s\.io\/pause:3\.10"/);
    });

    it("pulls the sandbox image from the internal registry when the platform mirrors Kubernetes images", () => {
        assert.strictEqual(sandboxImage(config(), "registry.local:5000"), "registry.local:5000/pause:3.10");
        assert.strictEqual(sandboxImage(config(), "harbor.example/k8s/"), "harbor.example/k8s/pause:3.10");
        assert.match(renderContainerdConfig(config(), "registry.local:5000"), /sandbox_image = "registry\.local:5000\/pause:3\.10"/);
    });

    it("mirrors first (pull/resolve), upstream last; a path endpoint is used as written; the CA for TLS only", () => {
        const toml = renderHostsToml({ host: "docker.io", endpoints: ["https://harbor.example/v2/dockerhub", "http://plain.example:5000"], insecure: false }, ["/usr/local/share/ca-certificates/groundwork/groundwork-0123456789ab.crt"]);
        assert.strictEqual(
            toml,
            [
                "# groundwork: rendered; do not edit on the machine",
                'server = "https://registry-1.docker.io"',
                'ca = "/usr/local/share/ca-certificates/groundwork/groundwork-0123456789ab.crt"',
                "",
                '[host."https://harbor.example/v2/dockerhub"]',
                '  capabilities = ["pull", "resolve"]',
                "  override_path = true",
                '  ca = "/usr/local/share/ca-certificates/groundwork/groundwork-0123456789ab.crt"',
                "",
                '[host."http://plain.example:5000"]',
                '  capabilities = ["pull", "resolve"]',
                "",
            ].join("\n"),
        );
    });

    it("writes hosts.toml per mirrored host naming each CA's one trust-store file, and no CA copy", () => {
        const c = config({ caCertificates: [CA, CA2] });
        const paths = [CA, CA2].map((pem) => `/usr/local/share/ca-certificates/groundwork/${caFileName(pem)}`);
        assert.match(file(c, `${CERTS_D}/docker.io/hosts.toml`)!, new RegExp(`\\n {2}ca = \\["${paths[0]}", "${paths[1]}"\\]\\n`));
        assert.strictEqual(file(c, paths[0]), `${CA}\n`);
        assert.strictEqual(file(c, `${CERTS_D}/docker.io/ca.crt`), undefined);
        assert.ok(engineParts(c).some((p) => (p.absent ?? []).includes(`${CERTS_D}/docker.io/ca.crt`)), "an earlier per-host copy is removed");
        assert.doesNotMatch(file(config({ caCertificates: [] }), `${CERTS_D}/docker.io/hosts.toml`)!, /ca =/);
    });

    it("configures a plain-HTTP registry only when insecure registries are allowed", () => {
        const denied = config({ insecureRegistries: ["reg.local:5000"] });
        assert.strictEqual(file(denied, `${CERTS_D}/reg.local:5000/hosts.toml`), undefined);
        const allowed = config({ insecureRegistries: ["reg.local:5000"], allowInsecureRegistries: true });
        assert.match(file(allowed, `${CERTS_D}/reg.local:5000/hosts.toml`)!, /server = "http:\/\/reg\.local:5000"\n\n\[host\."http:\/\/reg\.local:5000"\]\n {2}capabilities = \["pull", "resolve", "push"\]/);
        assert.strictEqual(file(allowed, `${CERTS_D}/reg.local:5000/ca.crt`), undefined, "no CA for a host that never talks TLS");
    });

    it("writes the platform registry's credential as the CRI auth table for its authority only, and config.toml 0600", () => {
        const auth = { authority: "registry.local:5000", username: "groundwork", password: 'pa"ss' };
        const toml = renderContainerdConfig(config(), undefined, auth);
        const plain = renderContainerdConfig(config());
        assert.strictEqual(
            toml,
            plain +
                [
                    "",
                    '[plugins."io.containerd.grpc.v1.cri".registry.configs."registry.local:5000".auth]',
                    '  username = "groundwork"',
                    '  password = "pa\\"ss"',
                    "",
                ].join("\n"),
        );
        assert.strictEqual(toml.match(/registry\.configs/g)?.length, 1);
        assert.doesNotMatch(plain, /registry\.configs|password/);
        const configFile = (opts: object) => engineParts(config(), opts).flatMap((x) => x.files).find((f) => f.path === CONTAINERD_CONFIG)!;
        assert.strictEqual(configFile({ registryAuth: auth }).mode, "0600");
        assert.strictEqual(configFile({ registryAuth: auth }).content, toml);
        assert.strictEqual(configFile({}).mode, "0644");
        assert.strictEqual(configFile({}).content, plain);
        // No hosts.toml carries the credential (containerd has no place for it there).
        for (const f of engineParts(config(), { registryAuth: auth }).flatMap((x) => x.files).filter((x) => x.path !== CONTAINERD_CONFIG)) {
            assert.doesNotMatch(f.content, /pa"ss/, f.path);
        }
    });

    it("docker machines get the same credential in containerd's config.toml (kubelet pulls through containerd's CRI)", () => {
        const auth = { authority: "registry.local", username: "u", password: "p" };
        const f = engineParts(config({ kind: "docker" }), { registryAuth: auth }).flatMap((x) => x.files).find((x) => x.path === CONTAINERD_CONFIG)!;
        assert.strictEqual(f.mode, "0600");
        assert.match(f.content, /^\[plugins\."io\.containerd\.grpc\.v1\.cri"\.registry\.configs\."registry\.local"\.auth\]\n {2}username = "u"\n {2}password = "p"\n$/m);
        const script = renderBootstrapScript({ hostname: "n1", sshUser: "debian", sshAuthorizedKeys: [] }, engineParts(config({ kind: "docker" }), { registryAuth: auth }));
        assert.match(script, /^gw_put '\/etc\/containerd\/config\.toml' 0600 <</m);
    });
});

describe("engine: docker daemon.json", () => {
    it("mirrors Docker Hub only, systemd cgroups, no insecure registries by default", () => {
        const doc = JSON.parse(renderDaemonJson(config({ kind: "docker", mirrors: [{ host: "docker.io", endpoints: ["https://m1.example"] }, { host: "quay.io", endpoints: ["https://m2.example"] }], insecureRegistries: ["reg.local:5000"] })));
        assert.deepStrictEqual(doc["registry-mirrors"], ["https://m1.example"]);
        assert.deepStrictEqual(doc["exec-opts"], ["native.cgroupdriver=systemd"]);
        assert.strictEqual(doc["insecure-registries"], undefined);
    });

    it("lists insecure registries only when explicitly allowed", () => {
        const doc = JSON.parse(renderDaemonJson(config({ kind: "docker", insecureRegistries: ["b.local:5000", "a.local"], allowInsecureRegistries: true })));
        assert.deepStrictEqual(doc["insecure-registries"], ["a.local", "b.local:5000"]);
    });

    it("docker machines get daemon.json and containerd's config (kubelet's CRI); docker trusts the OS store, no CA copies", () => {
        const c = config({ kind: "docker" });
        assert.ok(file(c, DOCKER_DAEMON_JSON));
        assert.deepStrictEqual(engineParts(c).flatMap((x) => x.files).filter((f) => f.content.includes(CA)).map((f) => f.path), [`/usr/local/share/ca-certificates/groundwork/${caFileName(CA)}`]);
        assert.ok(file(c, CONTAINERD_CONFIG));
        assert.strictEqual(file(config(), DOCKER_DAEMON_JSON), undefined);
    });
});

describe("engine: packages, source, proxy", () => {
    it("pins the engine's packages, config pins winning by name, in a stable order", () => {
        assert.deepStrictEqual(enginePackages(config()), [["containerd", "1.6.20~ds1-1+deb12u3"], ["runc", "1.1.5+ds1-1+deb12u1"]]);
        assert.deepStrictEqual(enginePackages(config({ kind: "docker", packages: { runc: "1.1.12+ds1-1" } })), [
            ["containerd", "1.6.20~ds1-1+deb12u3"],
            ["docker.io", "20.10.24+dfsg1-1+deb12u1+b6"],
            ["runc", "1.1.12+ds1-1"],
        ]);
        const script = engineParts(config()).find((p) => p.name === "engine/packages")!.script;
        assert.match(script, /pins=\('containerd=1\.6\.20~ds1-1\+deb12u3' 'runc=1\.1\.5\+ds1-1\+deb12u1'\)/);
        assert.match(script, /apt-mark hold/);
        // The installed state, not the selection: once held, Status reads "hold ok installed".
        assert.match(script, /--showformat="\\\$\{db:Status-Status\} \\\$\{Version\}" .* != "installed \$\{pin#\*=\}"/);
    });

    it("installs from the internal mirror only, when the package source is a mirror", () => {
        const c = config({ packageSource: { kind: "mirror", url: "http://10.0.2.100", trusted: true } });
        assert.strictEqual(file(c, APT_SOURCE_FILE), "# groundwork: rendered; do not edit on the machine\ndeb [trusted=yes] http://10.0.2.100/ bookworm main\n");
        const script = engineParts(c).find((p) => p.name === "engine/packages")!.script;
        assert.match(script, /Dir::Etc::SourceList=\/etc\/apt\/sources\.list\.d\/groundwork-engine\.list/);
        assert.match(script, /Dir::State::Lists=\/var\/lib\/groundwork\/apt\/lists/);
        const signed = config({ packageSource: { kind: "mirror", url: "https://mirror.example/debian/", suite: "bookworm-updates", components: ["main", "contrib"] } });
        assert.match(file(signed, APT_SOURCE_FILE)!, /^deb https:\/\/mirror\.example\/debian\/ bookworm-updates main contrib$/m);
    });

    it("uses the distribution's repositories otherwise, and removes a mirror source left from before", () => {
        const part = engineParts(config()).find((p) => p.name === "engine/packages")!;
        assert.strictEqual(part.files.length, 0);
        assert.deepStrictEqual(part.absent, [APT_SOURCE_FILE, APT_PROXY_FILE]);
        assert.doesNotMatch(part.script, /Dir::Etc::SourceList/);
    });

    it("gives apt and the engine the proxy; the mirror goes direct when no_proxy covers it", () => {
        const c = config({
            packageSource: { kind: "mirror", url: "http://mirror.corp.example/debian" },
            proxy: { http: "http://proxy.corp.example:3128", noProxy: [".corp.example"] },
        });
        assert.strictEqual(
            file(c, APT_PROXY_FILE),
            '# groundwork: rendered; do not edit on the machine\nAcquire::http::Proxy "http://proxy.corp.example:3128";\nAcquire::http::Proxy::mirror.corp.example "DIRECT";\nAcquire::https::Proxy::mirror.corp.example "DIRECT";\n',
        );
        const dropIn = file(c, "/etc/systemd/system/containerd.service.d/10-groundwork-proxy.conf", { noProxy: ["10.20.0.0/24", ".svc"] })!;
        assert.match(dropIn, /^Environment="HTTP_PROXY=http:\/\/proxy\.corp\.example:3128"$/m);
        assert.match(dropIn, /^Environment="NO_PROXY=localhost,127\.0\.0\.1,\.corp\.example,10\.20\.0\.0\/24,\.svc"$/m);
        assert.doesNotMatch(dropIn, /HTTPS_PROXY/);
        const none = engineParts(config()).find((p) => p.name === "engine/config")!;
        // No proxy: its drop-ins are absent; so is the per-host CA copy earlier versions wrote (the CA lives in the trust store).
        assert.deepStrictEqual(none.absent, ["/etc/systemd/system/containerd.service.d/10-groundwork-proxy.conf", "/etc/systemd/system/docker.service.d/10-groundwork-proxy.conf", "/etc/containerd/certs.d/docker.io/ca.crt"]);
    });

    for (const [host, list, expected] of [
        ["mirror.corp.example", [".corp.example"], true],
        ["corp.example", [".corp.example"], true],
        ["evilcorp.example", [".corp.example"], false],
        ["10.1.2.3", ["10.0.0.0/8"], true],
        ["11.1.2.3", ["10.0.0.0/8"], false],
        ["anything.example", ["*"], true],
        ["reg.example:5000", ["reg.example"], true],
    ] as [string, string[], boolean][]) {
        it(`no_proxy ${JSON.stringify(list)} ${expected ? "covers" : "does not cover"} ${host}`, () => {
            assert.strictEqual(bypassesProxy(host, list), expected);
        });
    }
});

describe("engine: parts, kernel, trust, lookup", () => {
    it("runs host preparation, trust, config, packages, service in that order", () => {
        assert.deepStrictEqual(engineParts(config()).map((p) => p.name), ["engine/host", "engine/trust", "engine/config", "engine/packages", "engine/service"]);
    });

    it("loads overlay and br_netfilter, sets the three sysctls, turns swap off", () => {
        const host = engineParts(config())[0];
        assert.strictEqual(host.files[0].content.split("\n").slice(1).join("\n"), "overlay\nbr_netfilter\n");
        assert.match(host.files[1].content, /net\.bridge\.bridge-nf-call-iptables = 1\nnet\.ipv4\.ip_forward = 1\n$/);
        assert.match(host.script, /swapoff -a/);
    });

    it("puts each private CA in the OS trust store under a name that survives reordering", () => {
        const a = engineParts(config({ caCertificates: [CA, CA2] }))[1];
        const b = engineParts(config({ caCertificates: [CA2, CA] }))[1];
        assert.deepStrictEqual(a.files.map((f) => f.path).sort(), b.files.map((f) => f.path).sort());
        assert.strictEqual(a.files.length, 2);
        assert.match(a.files[0].path, /^\/usr\/local\/share\/ca-certificates\/groundwork\/groundwork-[0-9a-f]{12}\.crt$/);
        assert.notStrictEqual(caFileName(CA), caFileName(CA2));
        assert.match(a.script, /update-ca-certificates --fresh/);
    });

    it("has one module per engine kind, each naming its services and the CRI socket", () => {
        assert.deepStrictEqual(Object.keys(ENGINES).sort(), [...engineKinds].sort());
        assert.deepStrictEqual(engineModule("docker").services, ["containerd", "docker"]);
        assert.strictEqual(engineModule("containerd").criSocket, "unix:///run/containerd/containerd.sock");
        assert.match(engineParts(config({ kind: "docker" }))[4].script, /docker info/);
    });

    it("renders byte-identical parts for the same config (property)", () => {
        fc.assert(
            fc.property(fc.constantFrom(...engineKinds), fc.boolean(), fc.subarray(["a.example", "b.example:5000", "docker.io"]), (kind, ca, hosts) => {
                const c = config({ kind, caCertificates: ca ? [CA] : [], mirrors: hosts.map((h) => ({ host: h, endpoints: [`https://mirror.example/${h}`] })) });
                assert.deepStrictEqual(engineParts(c), engineParts(structuredClone(c)));
            }),
            { numRuns: 50 },
        );
    });
});

describe("engine: validation", () => {
    it("accepts the happy path", () => {
        assert.deepStrictEqual(engineProblems(config()), []);
    });

    it("reports every problem with its key path", () => {
        const c = config({
            proxy: { noProxy: ["x"] },
            packages: { containerd: "2.0.0-1" },
            mirrors: [{ host: "docker.io", endpoints: ["https://a.example"] }, { host: "docker.io", endpoints: ["https://b.example"] }],
        });
        assert.deepStrictEqual(engineProblems(c), [
            { path: "platform.engine.proxy", message: "needs http or https (or remove proxy)" },
            { path: "platform.engine.packages.containerd", message: 'must be a 1.x version (config.toml format 2 is rendered), got "2.0.0-1"' },
            { path: "platform.engine.mirrors[1].host", message: '"docker.io" is listed twice; give one entry with all its endpoints' },
        ]);
    });

    it("rejects a sandbox image without a pinned tag", () => {
        const r = engineConfig.safeParse({ sandboxImage: "registry.k8s.io/pause:latest" });
        assert.strictEqual(r.success, false);
        assert.match(JSON.stringify(r.error?.issues), /must have a pinned tag, not latest/);
    });
});
