import * as assert from "assert";
import { execFileSync } from "child_process";
import { kubernetesPackagesParts } from "../../components/cluster";
import { renderPartsScript } from "../../components/engine/bootstrap";
import { engineParts } from "../../components/engine/engines";
import { PlatformSpec } from "../../components/platform/config";
import { nodeClusterSettings, nodeEngine } from "../../components/platform/wiring";
import { parse, rawPlatform } from "./fixture";

/** A 1 + 1 OpenStack platform with the engine and cluster sections given. */
function platform(engine: Record<string, unknown>, cluster: Record<string, unknown> = {}): PlatformSpec {
    const raw = rawPlatform("openstack", 1, 1, cluster);
    return parse({ ...raw, engine });
}

function parts(spec: PlatformSpec) {
    const [key, packages] = kubernetesPackagesParts(nodeClusterSettings(spec));
    return { key, packages, keyLines: key.script.split("\n"), pkgLines: packages.script.split("\n") };
}

const PROXY = { http: "http://proxy.corp.example:3128", https: "http://proxy.corp.example:3128", noProxy: [".corp.example"] };
const KEY_URL = "https://pkgs.k8s.io/core:/stable:/v1.33/deb/Release.key";

describe("cluster: Kubernetes packages behind proxies and mirrors", () => {
    it("fetches the repository key through the configured proxy", () => {
        const { keyLines } = parts(platform({ proxy: PROXY }));
        assert.ok(
            keyLines.includes(`  curl -fsSL --retry 5 --proxy 'http://proxy.corp.example:3128' '${KEY_URL}' | gpg --dearmor > '/etc/apt/keyrings/groundwork-kubernetes.gpg.new'`),
            keyLines.join("\n"),
        );
    });

    it("goes direct, past a proxy in the environment, to a mirror that no_proxy covers (also for apt)", () => {
        const { keyLines, pkgLines } = parts(platform({ proxy: PROXY }, { packageSource: { kind: "mirror", url: "https://mirror.corp.example/kubernetes" } }));
        assert.ok(keyLines.includes(`  curl -fsSL --retry 5 --noproxy '*' 'https://mirror.corp.example/kubernetes/Release.key' | gpg --dearmor > '/etc/apt/keyrings/groundwork-kubernetes.gpg.new'`), keyLines.join("\n"));
        assert.strictEqual(pkgLines[0], `gw_kube_apt() { apt-get '-q' '-y' '-o' 'Acquire::http::Proxy::mirror.corp.example=DIRECT' '-o' 'Acquire::https::Proxy::mirror.corp.example=DIRECT' "$@"; }`);
    });

    it("a host in the platform's own no_proxy entries (the node subnet) also goes direct", () => {
        // 10.20.0.0/16 is the fixture's node subnet; the user's noProxy does not name it.
        const { keyLines } = parts(platform({ proxy: PROXY }, { packageSource: { kind: "mirror", url: "https://10.20.0.5/k8s" } }));
        assert.ok(keyLines.some((l) => l.startsWith("  curl -fsSL --retry 5 --noproxy '*' 'https://10.20.0.5/k8s/Release.key'")), keyLines.join("\n"));
    });

    it("without a proxy the key is fetched as before (no proxy flags)", () => {
        const { keyLines } = parts(platform({}));
        assert.ok(keyLines.includes(`  curl -fsSL --retry 5 '${KEY_URL}' | gpg --dearmor > '/etc/apt/keyrings/groundwork-kubernetes.gpg.new'`), keyLines.join("\n"));
    });

    it("with an OS mirror (air-gap) reads only its own list: the Kubernetes repository and that mirror", () => {
        const { key, packages, pkgLines } = parts(platform({ packageSource: { kind: "mirror", url: "https://mirror.corp.example/debian" } }, { packageSource: { kind: "mirror", url: "https://mirror.corp.example/kubernetes" } }));
        assert.deepStrictEqual(packages.files, [
            {
                path: "/etc/groundwork/apt/kubernetes.list",
                content: "deb [signed-by=/etc/apt/keyrings/groundwork-kubernetes.gpg] https://mirror.corp.example/kubernetes/ /\ndeb https://mirror.corp.example/debian/ bookworm main\n",
            },
        ]);
        assert.deepStrictEqual(packages.absent, ["/etc/apt/sources.list.d/groundwork-kubernetes.list"]);
        assert.strictEqual(
            pkgLines[0],
            `gw_kube_apt() { apt-get '-q' '-y' '-o' 'Dir::Etc::SourceList=/etc/groundwork/apt/kubernetes.list' '-o' 'Dir::Etc::SourceParts=/var/lib/groundwork/apt/no-source-parts' '-o' 'Dir::State::Lists=/var/lib/groundwork/apt/kubernetes-lists' "$@"; }`,
        );
        assert.ok(pkgLines.includes("  gw_kube_apt update"));
        // curl and gpg come from the engine's mirror alone, before any Kubernetes source exists.
        assert.ok(
            key.script.includes(`  apt-get '-q' '-y' '-o' 'Dir::Etc::SourceList=/etc/apt/sources.list.d/groundwork-engine.list' '-o' 'Dir::Etc::SourceParts=/var/lib/groundwork/apt/no-source-parts' '-o' 'Dir::State::Lists=/var/lib/groundwork/apt/lists' update\n`),
            key.script,
        );
        assert.deepStrictEqual(key.files, []);
    });

    it("from the distribution, the Kubernetes list joins the machine's sources and apt reads them all", () => {
        const { packages, pkgLines } = parts(platform({}));
        assert.deepStrictEqual(packages.files, [{ path: "/etc/apt/sources.list.d/groundwork-kubernetes.list", content: "deb [signed-by=/etc/apt/keyrings/groundwork-kubernetes.gpg] https://pkgs.k8s.io/core:/stable:/v1.33/deb/ /\n" }]);
        assert.deepStrictEqual(packages.absent, ["/etc/groundwork/apt/kubernetes.list"]);
        assert.strictEqual(pkgLines[0], `gw_kube_apt() { apt-get '-q' '-y' "$@"; }`);
    });

    it("holds every installed Kubernetes package, cri-tools and kubernetes-cni included, on every run", () => {
        const { pkgLines } = parts(platform({}));
        // cri-tools and kubernetes-cni are the versions tools/kubernetes/build.sh builds (cri-tools v1.33.0 is not served by the Go module proxy).
        assert.ok(pkgLines.includes("pins=('kubeadm=1.33.13-1.1' 'kubelet=1.33.13-1.1' 'kubectl=1.33.13-1.1' 'cri-tools=1.34.0-1.1' 'kubernetes-cni=1.6.2-1.1')"), pkgLines.join("\n"));
        const hold = pkgLines.indexOf('for pin in "${pins[@]}"; do', pkgLines.indexOf("held=$(apt-mark showhold)"));
        assert.ok(hold > 0, pkgLines.join("\n"));
        assert.strictEqual(pkgLines[hold + 1], '  if ! grep -qx "${pin%%=*}" <<<"$held"; then apt-mark hold "${pin%%=*}" >/dev/null; gw_note_change "hold:${pin%%=*}"; fi');
        // The hold loop is outside the install branch: a package installed by hand gets held too.
        assert.ok(pkgLines.indexOf("held=$(apt-mark showhold)") > pkgLines.lastIndexOf("fi", hold));
    });

    it("a trusted mirror needs no key and no gpg", () => {
        const { key } = parts(platform({}, { packageSource: { kind: "mirror", url: "http://10.9.0.5/k8s", trusted: true } }));
        assert.strictEqual(key.script, ['if ! command -v curl >/dev/null 2>&1; then', '  log "kubernetes/key: installing curl"', "  apt-get '-q' '-y' update", "  apt-get '-q' '-y' install --no-install-recommends curl ca-certificates", "  gw_note_change kubernetes-tools", "fi"].join("\n"));
    });

    it("the engine's apt goes direct to its mirror when the platform's no_proxy (node subnet) covers it", () => {
        const spec = platform({ proxy: { http: "http://proxy.corp.example:3128" }, packageSource: { kind: "mirror", url: "http://10.20.0.6/debian" } });
        const { engine, engineOptions } = nodeEngine(spec);
        const conf = engineParts(engine, engineOptions).flatMap((p) => p.files).find((f) => f.path === "/etc/apt/apt.conf.d/90groundwork-proxy")!.content;
        assert.ok(conf.split("\n").includes('Acquire::http::Proxy::10.20.0.6 "DIRECT";'), conf);
    });

    it("renders scripts shellcheck accepts behind a proxy with an OS mirror", () => {
        const spec = platform({ proxy: PROXY, packageSource: { kind: "mirror", url: "https://mirror.corp.example/debian" } }, { packageSource: { kind: "mirror", url: "https://mirror.corp.example/kubernetes" } });
        const script = renderPartsScript("gw-cp-1", kubernetesPackagesParts(nodeClusterSettings(spec)));
        execFileSync("shellcheck", ["-s", "bash", "-"], { input: script });
    });
});
