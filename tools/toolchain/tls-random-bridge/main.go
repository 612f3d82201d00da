// One binary, two of groundwork's own Pulumi resource plugins, chosen by the name it runs under:
// pulumi-resource-tls (terraform-provider-tls as @pulumi/tls 5.6.1) and pulumi-resource-random
// (terraform-provider-random as @pulumi/random 4.21.2). One link serves both.
//
//	pulumi-resource-<pkg>              serve the plugin (the Pulumi engine starts it)
//	pulumi-resource-<pkg> -version     print the plugin version
//	pulumi-resource-<pkg> -dump-names  print every token's property names as JSON
package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	pfbridge "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"

	"groundwork.local/toolchain/tls-random-bridge/provider"
)

// The Pulumi package schemas build.sh generates (schemagen) into a work copy of this module before
// building; the committed files are empty and such a binary refuses to serve.
var (
	//go:embed schema-tls.json
	tlsSchema []byte
	//go:embed schema-random.json
	randomSchema []byte
)

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s: %s\n", filepath.Base(os.Args[0]), fmt.Sprintf(format, args...))
	os.Exit(1)
}

func main() {
	pkg := strings.TrimPrefix(filepath.Base(os.Args[0]), "pulumi-resource-")
	plugin, ok := provider.Plugins[pkg]
	if !ok {
		fail("this binary serves pulumi-resource-tls and pulumi-resource-random: install it under one of those names")
	}
	if len(os.Args) == 2 {
		switch os.Args[1] {
		case "-version", "--version":
			fmt.Println(plugin.Version)
			return
		case "-dump-names":
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", " ")
			if err := enc.Encode(provider.Names(plugin.Info())); err != nil {
				fail("%v", err)
			}
			return
		}
	}
	schema := map[string][]byte{"tls": tlsSchema, "random": randomSchema}[pkg]
	if len(schema) < 3 {
		fail("built without its Pulumi schema: build it with tools/toolchain/tls-random-bridge/build.sh")
	}
	pfbridge.Main(context.Background(), pkg, plugin.Info(), pfbridge.ProviderMetadata{PackageSchema: schema})
}
