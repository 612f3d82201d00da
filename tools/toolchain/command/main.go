// pulumi-resource-command: groundwork's own resource plugin for what it uses of the @pulumi/command
// 1.2.1 npm SDK (command:remote:Command over SSH, command:local:Command), under the SDK's tokens and
// property names. The Go module proxy refuses pulumi-command's own provider module.
//
//	pulumi-resource-command             serve the engine (started by `pulumi`)
//	pulumi-resource-command -version    print the plugin version
//	pulumi-resource-command -schema     print the schema GetSchema returns
package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"

	p "github.com/pulumi/pulumi-go-provider"
)

// version is what the SDK asks the engine for; build.sh stamps it with -X and checks it.
var version = "1.2.1"

//go:embed schema.json
var schemaSource []byte

// schemaJSON is schema.json with the plugin's version stamped in.
func schemaJSON() string {
	var s map[string]any
	if err := json.Unmarshal(schemaSource, &s); err != nil {
		panic(fmt.Sprintf("schema.json: %v", err))
	}
	s["version"] = version
	out, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(out)
}

func main() {
	if len(os.Args) == 2 {
		switch os.Args[1] {
		case "-version", "--version":
			fmt.Println(version)
			return
		case "-schema", "--schema":
			// Through the provider's own gRPC GetSchema handler, not schema.json directly.
			spec, err := p.GetSchema(context.Background(), "command", version, newProvider())
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			out, _ := json.MarshalIndent(spec, "", "  ")
			fmt.Println(string(out))
			return
		}
	}
	if err := p.RunProvider(context.Background(), "command", version, newProvider()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
