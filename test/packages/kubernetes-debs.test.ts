/**
 * The Kubernetes packages, checked by dpkg itself: it reads their control fields, installs them
 * into an empty root (as it would on a node) and reports what it installed and which Debian
 * packages they still need; apt-ftparchive indexes them as a flat repository like pkgs.k8s.io.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { buildKubernetesRepository, KubernetesBinaries } from "../../tools/packages/kubernetes-debs";
import { mergeRepositories } from "../support/cluster-artifacts";

describe("packages: Kubernetes debs as pkgs.k8s.io names them", () => {
    let dir: string;
    let debs: string[];
    let stand: KubernetesBinaries;
    const versions = { kubernetes: "1.33.13-1.1", criTools: "1.34.0-1.1", kubernetesCni: "1.6.0-1.1" };

    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-debs-"));
        const bin = (name: string) => {
            const f = path.join(dir, "bin", name);
            fs.mkdirSync(path.dirname(f), { recursive: true });
            fs.writeFileSync(f, `#!/bin/sh\necho "${name} stand-in"\n`, { mode: 0o700 });
            return f;
        };
        stand = { kubeadm: bin("kubeadm"), kubelet: bin("kubelet"), kubectl: bin("kubectl"), crictl: bin("crictl"), cniPlugins: { bridge: bin("bridge"), "host-local": bin("host-local"), loopback: bin("loopback"), portmap: bin("portmap") } };
        debs = buildKubernetesRepository(versions, stand, path.join(dir, "repo"));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("names each file <package>_<version>_amd64.deb with pkgs.k8s.io's versions", () => {
        assert.deepStrictEqual(debs.map((d) => path.basename(d)), ["kubeadm_1.33.13-1.1_amd64.deb", "kubelet_1.33.13-1.1_amd64.deb", "kubectl_1.33.13-1.1_amd64.deb", "cri-tools_1.34.0-1.1_amd64.deb", "kubernetes-cni_1.6.0-1.1_amd64.deb"]);
        const field = (deb: string, f: string) => execFileSync("dpkg-deb", ["-f", deb, f]).toString().trim();
        // pkgs.k8s.io's (kubernetes/release cmd/krel/templates/latest/metadata.yaml): kubeadm ≥ 1.32 declares none, kubelet ≥ 1.28 a CNI floor.
        assert.strictEqual(field(debs[0], "Depends"), "");
        assert.strictEqual(field(debs[1], "Depends"), "iptables (>= 1.4.21), iproute2, mount, kubernetes-cni (>= 1.2.0)");
    });

    it("dpkg installs all five into an empty root: files at their paths, executable, only Debian's own packages missing", () => {
        const emptyRoot = (name: string) => {
            const root = path.join(dir, name);
            for (const d of ["var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers"]) fs.mkdirSync(path.join(root, d), { recursive: true });
            fs.writeFileSync(path.join(root, "var/lib/dpkg/status"), "");
            return root;
        };
        const dpkg = (root: string, ...args: string[]) => execFileSync("dpkg", ["--root", root, "--force-script-chrootless", "--log=/dev/null", ...args], { stdio: ["ignore", "pipe", "pipe"] }).toString();
        // Without forcing, dpkg names every unmet dependency: kubelet's Debian ones (iptables, iproute2; mount is
        // essential on a real node but absent from an empty root).
        let refusal = "";
        try {
            dpkg(emptyRoot("strict"), "-i", ...debs);
        } catch (e) {
            refusal = String((e as { stderr: Buffer }).stderr);
        }
        const missing = [...refusal.matchAll(/^ (\S+) depends on (\S+)/gm)].map((m) => `${m[1]} → ${m[2]}`).sort();
        assert.deepStrictEqual(missing, ["kubelet → iproute2;", "kubelet → iptables", "kubelet → mount;"], refusal);
        const root = emptyRoot("root");
        const r = dpkg(root, "--force-depends", "-i", ...debs);
        assert.ok(r.includes("Setting up kubeadm (1.33.13-1.1)"), r);
        const listed = execFileSync("dpkg", ["--root", root, "-L", "kubeadm"]).toString().split("\n");
        assert.ok(listed.includes("/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf"), listed.join("\n"));
        assert.strictEqual(execFileSync(path.join(root, "usr/bin/crictl")).toString().trim(), "crictl stand-in");
        assert.strictEqual((fs.statSync(path.join(root, "opt/cni/bin/portmap")).mode & 0o777).toString(8), "755");
        assert.match(fs.readFileSync(path.join(root, "usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf"), "utf8"), /^EnvironmentFile=-\/var\/lib\/kubelet\/kubeadm-flags\.env$/m);
    });

    it("apt moves kubeadm alone to the next minor on a node whose 1.33 packages are held (the kubeadm-first upgrade), then the rest", () => {
        // A second set, 1.34.4 with its own CNI plugins, beside the first in one flat repository, as a node's mirror serves both.
        const next = buildKubernetesRepository({ kubernetes: "1.34.4-1.1", criTools: "1.34.0-1.1", kubernetesCni: "1.7.1-1.1" }, stand, path.join(dir, "repo-next"));
        const repo = path.join(dir, "repo-both");
        mergeRepositories([path.join(dir, "repo"), path.dirname(next[0])], repo);
        // A node as apt sees it: Debian's packages kubelet needs, and the five at 1.33 installed and held.
        const state = path.join(dir, "apt");
        for (const d of ["lists/partial", "cache/archives/partial", "etc/preferences.d", "etc/apt.conf.d"]) fs.mkdirSync(path.join(state, d), { recursive: true });
        const installed = (name: string, version: string, want = "install") => `Package: ${name}\nStatus: ${want} ok installed\nPriority: optional\nArchitecture: amd64\nVersion: ${version}\nMaintainer: x\nDescription: x\n`;
        fs.writeFileSync(
            path.join(state, "status"),
            [installed("iptables", "1.8.9-2"), installed("iproute2", "6.1.0-3"), installed("mount", "2.38.1-5+deb12u3"), ...["kubeadm", "kubelet", "kubectl"].map((p) => installed(p, "1.33.13-1.1", "hold")), installed("cri-tools", "1.34.0-1.1", "hold"), installed("kubernetes-cni", "1.6.0-1.1", "hold")].join("\n"),
        );
        fs.writeFileSync(path.join(state, "sources.list"), `deb [trusted=yes] file:${repo} ./\n`);
        const apt = (...args: string[]) =>
            execFileSync("apt-get", ["-o", `Dir::State::status=${path.join(state, "status")}`, "-o", `Dir::State::Lists=${path.join(state, "lists")}`, "-o", `Dir::Cache=${path.join(state, "cache")}`, "-o", `Dir::Etc::SourceList=${path.join(state, "sources.list")}`, "-o", `Dir::Etc::SourceParts=${path.join(state, "etc/apt.conf.d")}`, "-o", `Dir::Etc::Preferences=${path.join(state, "etc/preferences")}`, "-o", `Dir::Etc::PreferencesParts=${path.join(state, "etc/preferences.d")}`, "-o", "Debug::NoLocking=1", "-q", "-y", ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
        apt("update");
        // What the packages part runs first on an upgrade: kubeadm alone (apt-get -s: apt's own answer, nothing installed).
        const first = apt("-s", "install", "--no-install-recommends", "--allow-change-held-packages", "kubeadm=1.34.4-1.1");
        assert.deepStrictEqual(first.split("\n").filter((l) => l.startsWith("Inst ")), ["Inst kubeadm [1.33.13-1.1] (1.34.4-1.1 localhost [amd64])"], first);
        // After `kubeadm upgrade`: kubelet, kubectl and the tools at their pins.
        const rest = apt("-s", "install", "--no-install-recommends", "--allow-change-held-packages", "--allow-downgrades", "kubeadm=1.34.4-1.1", "kubelet=1.34.4-1.1", "kubectl=1.34.4-1.1", "cri-tools=1.34.0-1.1", "kubernetes-cni=1.7.1-1.1");
        const configured = rest.split("\n").filter((l) => l.startsWith("Conf ")).map((l) => l.replace(/^Conf (\S+) \((\S+) .*$/, "$1 $2")).sort();
        assert.deepStrictEqual(configured, ["cri-tools 1.34.0-1.1", "kubeadm 1.34.4-1.1", "kubectl 1.34.4-1.1", "kubelet 1.34.4-1.1", "kubernetes-cni 1.7.1-1.1"], rest);
    });

    it("indexes a flat repository (deb URL/ /) whose Packages file lists the five with their sizes and hashes", () => {
        const packages = fs.readFileSync(path.join(dir, "repo", "Packages"), "utf8");
        const stanzas = packages.trim().split(/\n\n/);
        assert.strictEqual(stanzas.length, 5);
        for (const deb of debs) {
            const stanza = stanzas.find((s) => s.includes(`Filename: ./${path.basename(deb)}`));
            assert.ok(stanza, path.basename(deb));
            assert.ok(stanza!.includes(`Size: ${fs.statSync(deb).size}`));
            const sha = execFileSync("sha256sum", [deb]).toString().split(" ")[0];
            assert.ok(stanza!.includes(`SHA256: ${sha}`));
        }
    });
});
