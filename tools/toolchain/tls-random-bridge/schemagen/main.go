// schemagen writes the Pulumi package schema of one of groundwork's tls/random bridges (tfgen
// through the bridge's pkg/pf, with the descriptions the Terraform schema carries; no upstream
// markdown docs):
//
//	schemagen <tls|random> <out.json>
package main

import (
	"context"
	"fmt"
	"os"

	pftfgen "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag/colors"

	"groundwork.local/toolchain/tls-random-bridge/provider"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: schemagen <tls|random> <out.json>")
		os.Exit(2)
	}
	plugin, ok := provider.Plugins[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "schemagen: unknown package %q (tls or random)\n", os.Args[1])
		os.Exit(2)
	}
	// Warnings (e.g. properties without descriptions) are expected; only errors are shown.
	sink := diag.DefaultSink(os.Stderr, os.Stderr, diag.FormatOptions{Color: colors.Never})
	res, err := pftfgen.GenerateSchema(context.Background(), pftfgen.GenerateSchemaOptions{
		ProviderInfo:    plugin.Info(),
		DiagnosticsSink: sink,
		XInMemoryDocs:   true,
	})
	if err == nil {
		err = os.WriteFile(os.Args[2], res.ProviderMetadata.PackageSchema, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "schemagen:", err)
		os.Exit(1)
	}
}
