// schemagen writes the Pulumi package schema of groundwork's OpenStack bridge (tfgen, with the
// descriptions the Terraform schema carries; no upstream markdown docs, no example conversion):
//
//	schemagen <version> <out.json>
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfgen"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag/colors"

	"groundwork.local/toolchain/openstack-bridge/provider"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: schemagen <version> <out.json>")
		os.Exit(2)
	}
	prov := provider.Provider(os.Args[1])
	// Warnings (e.g. properties without descriptions) are expected; only errors are shown.
	sink := diag.DefaultSink(os.Stderr, os.Stderr, diag.FormatOptions{Color: colors.Never})
	res, err := tfgen.GenerateSchemaWithOptions(tfgen.GenerateSchemaOptions{
		ProviderInfo:    prov,
		DiagnosticsSink: sink,
		XInMemoryDocs:   true,
	})
	if err == nil {
		var out []byte
		if out, err = json.Marshal(res.PackageSpec); err == nil {
			err = os.WriteFile(os.Args[2], out, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "schemagen:", err)
		os.Exit(1)
	}
}
