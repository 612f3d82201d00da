// The Pulumi program of converge.int.ts (copied to a temporary project folder there, its imports of
// the repository made absolute): one machine's converge exactly as the platform makes it (convergeCommand),
// against the test's loopback sshd, whose /var/lib, /usr/local and /run are the test's scratch
// folders. The bootstrap has two parts; `mirror` changes the first.
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import { BootstrapPart, partDigests, renderPartsScript } from "../../../components/engine/bootstrap";
import { convergeCommand } from "../../../components/machines/converge";

const cfg = new pulumi.Config();
const parts: BootstrapPart[] = [
    { name: "engine/config", files: [{ path: "/var/lib/gwtest/mirror.conf", content: `mirror=${cfg.require("mirror")}\n` }], script: "" },
    { name: "kubeadm", files: [{ path: "/var/lib/gwtest/kubeadm.conf", content: "stays\n" }], script: 'echo "kubeadm part ran" >> /var/lib/gwtest/runs' },
];
const script = renderPartsScript("node-1", parts);
// The digests of these parts (partDigests also names the login user's part, which this script leaves out).
const { identity: _identity, ...digests } = partDigests({ hostname: "node-1", sshUser: "groundwork", sshAuthorizedKeys: [] }, parts);
const converge = convergeCommand(
    "node-1-converge",
    {
        connection: { host: "127.0.0.1", port: cfg.requireNumber("port"), user: "root", privateKey: pulumi.secret(fs.readFileSync(cfg.require("keyFile"), "utf8")), dialErrorLimit: 3 },
        bootstrap: { script, userData: "", digests },
    },
    {},
);
export const stdout = converge.stdout;
