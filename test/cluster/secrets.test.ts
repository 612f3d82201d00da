import * as assert from "assert";
import { buildCluster, parse, rawPlatform, settleAll } from "./fixture";
import { captureGraph, graph, resetGraph } from "./graph";

/**
 * Every output of a @pulumi/random resource that carries its value, as the provider's schema
 * documents them. `id` is on the list where the resource id is the value itself (RandomString:
 * result; RandomId: b64Url): the engine cannot make an id secret, so such a resource can never
 * hold a credential.
 */
const VALUE_OUTPUTS: Record<string, string[]> = {
    "random:index/randomPassword:RandomPassword": ["result", "bcryptHash"],
    "random:index/randomString:RandomString": ["result", "id"],
    "random:index/randomId:RandomId": ["hex", "b64Std", "b64Url", "dec", "id"],
    "random:index/randomBytes:RandomBytes": ["base64", "hex"],
};

describe("cluster secrets in state", () => {
    before(() => captureGraph());

    it("every random value the cluster generates (token, certificate key) is secret in state: each value-carrying output is an additional secret output", async () => {
        resetGraph();
        buildCluster(parse(rawPlatform("openstack", 3, 2)));
        await settleAll();
        const randoms = graph().filter((n) => n.type.startsWith("random:"));
        assert.ok(randoms.length >= 3, `expected the token and certificate-key generators, got ${randoms.map((n) => n.name).join(", ")}`);
        for (const n of randoms) {
            const outputs = VALUE_OUTPUTS[n.type];
            assert.ok(outputs, `${n.name}: unexpected random type ${n.type}`);
            const clear = outputs.filter((o) => !n.secretOutputs.includes(o));
            assert.deepStrictEqual(clear, [], `${n.name} (${n.type}) leaves ${clear.join(", ")} in clear in state`);
        }
    });
});
