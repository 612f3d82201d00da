import * as assert from "assert";
import * as fc from "fast-check";
import { contains, parseCidr, parseIp } from "../../components/kit/ipv4";
import { AddressRequest, buildIpPlan, IpPlanSpec } from "../../components/network/plan";

const spec: IpPlanSpec = {
    cidr: "10.20.0.0/24",
    gateway: "10.20.0.1",
    reserved: ["10.20.0.2-10.20.0.9"],
    vip: "10.20.0.10",
    pools: { control: "10.20.0.16/29", workers: "10.20.0.32/27" },
};
const req = (name: string, pool: string, ordinal: number): AddressRequest => ({ name, path: `m.${name}`, pool, ordinal });
const messages = (s: IpPlanSpec, r: AddressRequest[] = []) => buildIpPlan(s, r).problems.map((p) => `${p.path}: ${p.message}`);

describe("network: IP plan", () => {
    it("gives each machine pool start + ordinal - 1, and the netmask and VIP", () => {
        const { plan, problems } = buildIpPlan(spec, [req("cp-1", "control", 1), req("w-1", "workers", 1), req("w-3", "workers", 3)]);
        assert.deepStrictEqual(problems, []);
        assert.deepStrictEqual(plan!.addresses, { "cp-1": "10.20.0.16", "w-1": "10.20.0.32", "w-3": "10.20.0.34" });
        assert.strictEqual(plan!.netmask, "255.255.255.0");
        assert.strictEqual(plan!.vip, "10.20.0.10");
    });

    it("accepts a VIP inside a reserved range (how real IP plans keep DHCP off it)", () => {
        const { plan, problems } = buildIpPlan({ ...spec, vip: "10.20.0.5" }, [req("cp-1", "control", 1)]);
        assert.deepStrictEqual(problems, []);
        assert.strictEqual(plan!.vip, "10.20.0.5");
    });

    it("accepts a fixed address outside every pool", () => {
        const { plan } = buildIpPlan(spec, [{ name: "metal-1", path: "m", address: "10.20.0.100" }]);
        assert.strictEqual(plan!.addresses["metal-1"], "10.20.0.100");
    });

    const bad: [string, IpPlanSpec, AddressRequest[], string][] = [
        ["overlapping pools", { ...spec, pools: { a: "10.20.0.16/28", b: "10.20.0.24/29" } }, [], "network.pools.b: overlaps pool a (10.20.0.16-10.20.0.31)"],
        ["pool outside the subnet", { ...spec, pools: { a: "10.21.0.0/28" } }, [], "network.pools.a: 10.21.0.0-10.21.0.15 is outside the subnet 10.20.0.0/24"],
        ["pool holding the network address", { ...spec, pools: { a: "10.20.0.0/28" } }, [], "network.pools.a: contains the network address 10.20.0.0"],
        ["pool holding the broadcast address", { ...spec, pools: { a: "10.20.0.240/28" } }, [], "network.pools.a: contains the broadcast address 10.20.0.255"],
        ["pool holding the gateway", { ...spec, reserved: [], pools: { a: "10.20.0.1-10.20.0.5" } }, [], "network.pools.a: contains the gateway 10.20.0.1"],
        ["VIP inside a pool", { ...spec, vip: "10.20.0.17" }, [], "network.pools.control: contains the control-plane VIP 10.20.0.17; move the VIP out of every pool"],
        ["gateway outside the subnet", { ...spec, gateway: "10.30.0.1" }, [], "network.gateway: 10.30.0.1 is outside the subnet 10.20.0.0/24"],
        ["VIP is the broadcast address", { ...spec, vip: "10.20.0.255" }, [], "network.vip: 10.20.0.255 is the broadcast address of 10.20.0.0/24"],
        ["pool overlaps a reserved range", { ...spec, pools: { a: "10.20.0.8/29" } }, [], "network.pools.a: overlaps reserved range 10.20.0.2-10.20.0.9"],
        ["pool too small", spec, [req("cp-1", "control", 1), req("cp-9", "control", 9)], 'm.cp-9: pool "control" (10.20.0.16-10.20.0.23) has 8 addresses; cp-9 needs position 9'],
        ["unknown pool", spec, [req("x-1", "gpu", 1)], 'm.x-1: pool "gpu" is not defined; network.pools has: control, workers'],
        ["duplicate machine name", spec, [req("a", "control", 1), req("a", "control", 2)], 'm.a: duplicate machine name "a"'],
        ["fixed address inside a pool", spec, [{ name: "m", path: "m.m", address: "10.20.0.33" }], "m.m: 10.20.0.33 is inside pool workers, which groundwork allocates from"],
        ["fixed address inside a reserved range (bare metal)", spec, [{ name: "m", path: "m.m", address: "10.20.0.5" }], "m.m: 10.20.0.5 is inside reserved range 10.20.0.2-10.20.0.9, which no machine may use"],
        ["fixed address is the VIP", spec, [{ name: "m", path: "m.m", address: "10.20.0.10" }], "m.m: 10.20.0.10 is the control-plane VIP"],
        ["CIDR with host bits", { ...spec, cidr: "10.20.0.5/24" }, [], 'network.cidr: "10.20.0.5/24" has host bits set; the network address is 10.20.0.0/24'],
    ];
    for (const [what, s, r, expected] of bad) {
        it(`rejects ${what}`, () => assert.ok(messages(s, r).includes(expected), `got: ${JSON.stringify(messages(s, r))}`));
    }

    it("reports every problem at once", () => {
        const all = messages({ ...spec, gateway: "10.30.0.1", vip: "10.20.0.17", pools: { control: "10.20.0.16/29", w: "10.20.0.20/30" } });
        assert.strictEqual(all.length, 3, JSON.stringify(all));
    });
});

describe("network: IP plan properties (fast-check)", () => {
    const plan = (ordinals: number[]) => buildIpPlan(spec, ordinals.map((o) => req(`w-${o}`, "workers", o))).plan!.addresses;
    const ordinalSet = fc.uniqueArray(fc.integer({ min: 1, max: 32 }), { minLength: 1, maxLength: 32 });

    it("gives unique addresses, all inside the subnet and never the gateway, VIP, network or broadcast", () => {
        const subnet = parseCidr(spec.cidr);
        if (typeof subnet === "string") throw new Error(subnet);
        fc.assert(
            fc.property(ordinalSet, (ordinals) => {
                const addrs = Object.values(plan(ordinals));
                assert.strictEqual(new Set(addrs).size, addrs.length);
                for (const a of addrs) {
                    const n = parseIp(a)!;
                    assert.ok(contains(subnet, n) && n !== subnet.first && n !== subnet.last);
                    assert.ok(![spec.gateway, spec.vip].includes(a));
                }
            }),
        );
    });

    it("never moves an existing machine when another is added or removed", () => {
        fc.assert(
            fc.property(ordinalSet, fc.integer({ min: 1, max: 32 }), (ordinals, other) => {
                const before = plan(ordinals);
                const withOther = plan([...new Set([...ordinals, other])]);
                const without = plan(ordinals.filter((o) => o !== other).length > 0 ? ordinals.filter((o) => o !== other) : ordinals);
                for (const [name, addr] of Object.entries(before)) {
                    assert.strictEqual(withOther[name], addr);
                    if (name in without) assert.strictEqual(without[name], addr);
                }
            }),
        );
    });

    it("is deterministic: request order does not change any address", () => {
        fc.assert(
            fc.property(ordinalSet, (ordinals) => {
                assert.deepStrictEqual(plan(ordinals), plan([...ordinals].reverse()));
            }),
        );
    });
});
