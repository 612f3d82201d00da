// pulumi-resource-openstack: groundwork's own Pulumi resource plugin for OpenStack, bridging
// terraform-provider-openstack with the tokens of the @pulumi/openstack 3.15.2 npm SDK.
//
//	pulumi-resource-openstack              serve the plugin (the Pulumi engine starts it)
//	pulumi-resource-openstack -version     print the plugin version
//	pulumi-resource-openstack -dump-names  print every token's property names as JSON
package main

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"os"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"

	"groundwork.local/toolchain/openstack-bridge/provider"
)

// version is stamped by build.sh: -ldflags "-X main.version=3.15.2".
var version = "3.15.2"

// schema is the Pulumi package schema that build.sh generates (tfgen) into a work copy of this
// module before building; the committed file is empty and the plugin then serves no schema
// (GetSchema answers "", and the bridge skips its input type checks).
//
//go:embed schema-embed.json
var schema []byte

func main() {
	prov := provider.Provider(version)
	if len(os.Args) == 2 && os.Args[1] == "-dump-names" {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", " ")
		if err := enc.Encode(provider.Names(prov)); err != nil {
			fmt.Fprintln(os.Stderr, "pulumi-resource-openstack:", err)
			os.Exit(1)
		}
		return
	}
	var embedded []byte
	if len(schema) > 2 {
		embedded = schema
	}
	tfbridge.Main(provider.Package, version, prov, embedded)
}
