import * as assert from "assert";
import { adminPortsNotWorldOpen, controlPlaneAntiAffinity, controlPlaneQuorum, noInsecureRegistries, portsPlannedAndGuarded } from "../../policy/policies";
import { T } from "../../policy/lib";
import { bootstrapCommand, controlPlaneInstance, port, serverGroup, sshRule, userDataWith, vsphereVm, workerInstance } from "./fixtures";
import { resourceArgs, stackResource, stackViolations, violations, withField } from "./harness";

const cp = (i: number, env = "prod") => stackResource(T.instance, withField(withField(controlPlaneInstance, ["metadata", "groundwork:environment"], env), "name", `prod-cp-${i}`), `cp-${i}`);
const worker = stackResource(T.instance, workerInstance, "worker-1");

describe("policy control-plane-quorum", () => {
    const policy = controlPlaneQuorum("mandatory");

    it("passes 3 prod control planes and ignores workers", async () => {
        assert.deepStrictEqual(await stackViolations(policy, [cp(1), cp(2), cp(3), worker]), []);
    });

    it("rejects 1 control plane in prod", async () => {
        assert.deepStrictEqual(await stackViolations(policy, [cp(1), worker]), ["prod has 1 control-plane machine; it needs an odd count of at least 3 so etcd survives losing one"]);
    });

    it("accepts 1 control plane in dev, rejects an even count anywhere", async () => {
        assert.deepStrictEqual(await stackViolations(policy, [cp(1, "dev")]), []);
        assert.deepStrictEqual(await stackViolations(policy, [cp(1, "dev"), cp(2, "dev")]), ["2 control-plane machines is an even etcd membership; use an odd count (1, 3 or 5)"]);
    });

    it("falls back to the groundwork:environment stack tag and counts vSphere control planes", async () => {
        const vm = stackResource(T.vsphereVm, vsphereVm, "vm-1");
        assert.deepStrictEqual(await stackViolations(policy, [vm], { "groundwork:environment": "prod" }), [
            "prod has 1 control-plane machine; it needs an odd count of at least 3 so etcd survives losing one",
        ]);
        assert.deepStrictEqual(await stackViolations(policy, [vm], { "groundwork:environment": "qa" }), []);
    });
});

describe("policy control-plane-anti-affinity", () => {
    const policy = controlPlaneAntiAffinity("mandatory");

    it("passes the control-plane server group and a grouped control-plane server", async () => {
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.serverGroup, serverGroup)), []);
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.instance, controlPlaneInstance)), []);
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.serverGroup, withField(serverGroup, "policies", ["soft-anti-affinity"]))), []);
    });

    it("rejects an affinity policy on the control-plane server group", async () => {
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.serverGroup, withField(serverGroup, "policies", ["affinity"]))), [
            "server group prod-openstack-control-plane has policies [affinity]; control planes need anti-affinity or soft-anti-affinity",
        ]);
    });

    it("rejects a control-plane server outside any server group, not a worker", async () => {
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.instance, withField(controlPlaneInstance, "schedulerHints", undefined))), [
            "control-plane server prod-cp-1 has no schedulerHints.group; put it in the anti-affinity server group",
        ]);
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.instance, workerInstance)), []);
    });
});

describe("policy admin-ports-not-world-open", () => {
    const policy = adminPortsNotWorldOpen("mandatory");

    it("passes SSH from the admin CIDR", async () => {
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.secGroupRule, sshRule)), []);
    });

    it("rejects SSH from 0.0.0.0/0", async () => {
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.secGroupRule, withField(sshRule, "remoteIpPrefix", "0.0.0.0/0"))), [
            "rule opens tcp 22 (SSH) to 0.0.0.0/0; allow only the admin CIDRs (backends.openstack.adminCidrs)",
        ]);
    });

    it("rejects a range covering 6443 open to ::/0, and an all-ports rule with no source", async () => {
        const apiRange = withField(withField(withField(sshRule, "portRangeMin", 6000), "portRangeMax", 7000), "remoteIpPrefix", "::/0");
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.secGroupRule, apiRange)), [
            "rule opens tcp 6443 (the Kubernetes API server) to ::/0; allow only the admin CIDRs (backends.openstack.adminCidrs)",
        ]);
        const allPorts = { securityGroupId: "sg-1", direction: "ingress", ethertype: "IPv4" };
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.secGroupRule, allPorts)), [
            "rule opens tcp 22 (SSH) to anywhere; allow only the admin CIDRs (backends.openstack.adminCidrs)",
            "rule opens tcp 6443 (the Kubernetes API server) to anywhere; allow only the admin CIDRs (backends.openstack.adminCidrs)",
        ]);
    });

    it("ignores egress and udp rules open to the world", async () => {
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.secGroupRule, withField(withField(sshRule, "remoteIpPrefix", "0.0.0.0/0"), "direction", "egress"))), []);
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.secGroupRule, withField(withField(sshRule, "remoteIpPrefix", "0.0.0.0/0"), "protocol", "udp"))), []);
    });
});

describe("policy no-insecure-registries", () => {
    const policy = noInsecureRegistries("mandatory");
    const message = (what: string) => `bootstrap configures an insecure registry (${what}); trust the registry's CA via engine.caCertificates instead`;

    it("passes the rendered user-data of a TLS-only mirror (OpenStack and vSphere)", async () => {
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.instance, controlPlaneInstance)), []);
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.vsphereVm, vsphereVm)), []);
    });

    it("rejects skip_verify in a hosts.toml inside OpenStack user-data", async () => {
        const ud = userDataWith('server = "https://registry.internal"\n\n[host."https://registry.internal"]\n  skip_verify = true\n');
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.instance, withField(controlPlaneInstance, "userData", ud))), [message("containerd skip_verify = true")]);
    });

    it("rejects a plain-http registry host inside base64 vSphere guestinfo", async () => {
        const ud = Buffer.from(userDataWith('server = "http://registry.internal:5000"\n'), "utf8").toString("base64");
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.vsphereVm, withField(vsphereVm, ["extraConfig", "guestinfo.userdata"], ud))), [
            message("a containerd registry host over plain http://"),
        ]);
    });

    it("rejects docker insecure-registries in a bare-metal bootstrap script", async () => {
        const stdin = `${bootstrapCommand.stdin}cat > /etc/docker/daemon.json <<'EOF'\n{"insecure-registries": ["registry.internal:5000"]}\nEOF\n`;
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.remoteCommand, withField(bootstrapCommand, "stdin", stdin))), [message("docker insecure-registries")]);
    });
});

describe("policy ports-planned-and-guarded", () => {
    const policy = portsPlannedAndGuarded("advisory");

    it("passes a port with its planned address and the node security group", async () => {
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.port, port)), []);
    });

    it("rejects a port without a fixed address", async () => {
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.port, withField(port, "fixedIps", [{ subnetId: "subnet-1" }]))), [
            "port prod-cp-1 has no fixedIps[].ipAddress; machines take their address from the IP plan, not DHCP",
        ]);
    });

    it("rejects a port without security groups, or with port security off", async () => {
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.port, withField(port, "securityGroupIds", []))), [
            "port prod-cp-1 has no securityGroupIds; attach the platform's node security group",
        ]);
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.port, withField(port, "portSecurityEnabled", false))), ["port prod-cp-1 sets portSecurityEnabled: false; keep port security on"]);
    });
});
