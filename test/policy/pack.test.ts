import * as assert from "assert";
import { buildPolicies, DEFAULT_LEVELS, resolveLevels } from "../../policy/levels";
import { GUARDRAILS } from "../../policy/policies";

describe("policy pack", () => {
    it("has at least 10 guardrails, each with a default level, a unique name and a validation", () => {
        const policies = buildPolicies(DEFAULT_LEVELS);
        assert.ok(policies.length >= 10, `only ${policies.length}`);
        assert.deepStrictEqual(policies.map((p) => p.name).sort(), Object.keys(DEFAULT_LEVELS).sort());
        assert.deepStrictEqual(Object.keys(GUARDRAILS).sort(), Object.keys(DEFAULT_LEVELS).sort());
        for (const p of policies) assert.ok("validateStack" in p || ("validateResource" in p && p.validateResource !== undefined), p.name);
    });

    it("builds each guardrail at the level it is given", () => {
        for (const [name, make] of Object.entries(GUARDRAILS)) {
            assert.strictEqual(make("disabled").enforcementLevel, "disabled", name);
            assert.strictEqual(make("mandatory").name, name);
        }
    });

    it("merges pack config (level or {enforcementLevel}) over the defaults", () => {
        const levels = resolveLevels({ "pinned-images": "mandatory", "verified-tls": { enforcementLevel: "disabled" } });
        assert.strictEqual(levels["pinned-images"], "mandatory");
        assert.strictEqual(levels["verified-tls"], "disabled");
        assert.strictEqual(levels["control-plane-quorum"], DEFAULT_LEVELS["control-plane-quorum"]);
        const policies = buildPolicies(levels);
        assert.strictEqual(policies.find((p) => p.name === "pinned-images")!.enforcementLevel, "mandatory");
    });

    it("reports every unknown policy and bad level at once", () => {
        assert.throws(() => resolveLevels({ "no-such-policy": "mandatory", "pinned-images": "strict" }), (e: Error) => {
            assert.strictEqual(
                e.message,
                [
                    `no-such-policy: unknown policy; known: ${Object.keys(GUARDRAILS).sort().join(", ")}`,
                    'pinned-images: enforcement level must be one of advisory, mandatory, remediate, disabled, got "strict"',
                ].join("\n"),
            );
            return true;
        });
    });
});
