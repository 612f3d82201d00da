// Package provider holds groundwork's own Pulumi bridges of terraform-provider-tls and
// terraform-provider-random (plugin-framework providers, through the bridge's pkg/pf) with the
// tokens of the @pulumi/tls 5.6.1 and @pulumi/random 4.21.2 npm SDKs.
package provider

import (
	"fmt"
	"sort"
	"unicode"

	pfbridge "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	shim "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"

	tlsshim "github.com/hashicorp/terraform-provider-tls/shim"
	randomshim "github.com/terraform-providers/terraform-provider-random/shim"
)

// Plugin is one resource plugin this module builds.
type Plugin struct {
	Version string                       // the version its npm SDK asks the engine for
	Info    func() tfbridge.ProviderInfo // the bridge's description of it
}

// Plugins are the plugins by Pulumi package name.
var Plugins = map[string]Plugin{
	"tls":    {Version: "5.6.1", Info: func() tfbridge.ProviderInfo { return TLS("5.6.1") }},
	"random": {Version: "4.21.2", Info: func() tfbridge.ProviderInfo { return Random("4.21.2") }},
}

// spec is what differs between the two providers.
type spec struct {
	pkg, display, description string
	resources, dataSources    map[string]string // Terraform type -> SDK name (module "index")
	config                    map[string]*tfbridge.SchemaInfo
}

// build maps every Terraform type of p to its SDK token. A Terraform type without a row, or a row
// without a Terraform type, panics: the schema step of build.sh then fails naming it.
func build(p shim.Provider, version string, s spec) tfbridge.ProviderInfo {
	prov := tfbridge.ProviderInfo{
		P:           p,
		Name:        s.pkg,
		Version:     version,
		DisplayName: s.display,
		Description: s.description,
		Keywords:    []string{"pulumi", s.pkg},
		License:     "Apache-2.0",
		Homepage:    "https://pulumi.io",
		Repository:  "https://github.com/pulumi/pulumi-" + s.pkg,
		GitHubOrg:   "hashicorp",
		Config:      s.config,
		Resources:   map[string]*tfbridge.ResourceInfo{},
		DataSources: map[string]*tfbridge.DataSourceInfo{},
		// pkg/pf refuses to serve without it. Its runtime keys ("auto-settings", "mux") are written
		// only by auto-aliasing and muxing, which these plugins do not use: empty is what tfgen
		// would produce.
		MetadataInfo: tfbridge.NewProviderMetadata(nil),
	}
	for _, tf := range check(s.pkg, "resource", p.ResourcesMap(), s.resources) {
		prov.Resources[tf] = &tfbridge.ResourceInfo{Tok: tokens.Type(member(s.pkg, s.resources[tf]))}
	}
	for _, tf := range check(s.pkg, "data source", p.DataSourcesMap(), s.dataSources) {
		prov.DataSources[tf] = &tfbridge.DataSourceInfo{Tok: tokens.ModuleMember(member(s.pkg, s.dataSources[tf]))}
	}
	return prov
}

// check returns the provider's Terraform types, sorted, after making sure they and the rows agree.
func check(pkg, kind string, m shim.ResourceMap, rows map[string]string) []string {
	var types []string
	m.Range(func(key string, _ shim.Resource) bool {
		types = append(types, key)
		return true
	})
	sort.Strings(types)
	for _, tf := range types {
		if rows[tf] == "" {
			panic(fmt.Sprintf("%s: Terraform %s %s has no SDK token row in provider/%s.go", pkg, kind, tf, pkg))
		}
	}
	for tf := range rows {
		if _, ok := m.GetOk(tf); !ok {
			panic(fmt.Sprintf("%s: provider/%s.go names Terraform %s %s, which the provider lacks", pkg, pkg, kind, tf))
		}
	}
	return types
}

// member builds <pkg>:index/<name, first letter lower-cased>:<name>.
func member(pkg, name string) string {
	return pkg + ":index/" + string(unicode.ToLower(rune(name[0]))) + name[1:] + ":" + name
}

// TLS returns the bridge's description of terraform-provider-tls as @pulumi/tls.
func TLS(version string) tfbridge.ProviderInfo {
	return build(pfbridge.ShimProvider(tlsshim.NewProvider()), version, spec{
		pkg:         "tls",
		display:     "TLS",
		description: "A Pulumi package to create TLS resources in Pulumi programs.",
		resources: map[string]string{
			"tls_private_key":         "PrivateKey",
			"tls_self_signed_cert":    "SelfSignedCert",
			"tls_locally_signed_cert": "LocallySignedCert",
			"tls_cert_request":        "CertRequest",
		},
		dataSources: map[string]string{
			"tls_public_key":  "getPublicKey",
			"tls_certificate": "getCertificate",
		},
	})
}

// Random returns the bridge's description of terraform-provider-random as @pulumi/random.
func Random(version string) tfbridge.ProviderInfo {
	return build(pfbridge.ShimProvider(randomshim.NewProvider()), version, spec{
		pkg:         "random",
		display:     "random",
		description: "A Pulumi package to safely use randomness in Pulumi programs.",
		resources: map[string]string{
			"random_bytes":    "RandomBytes",
			"random_id":       "RandomId",
			"random_integer":  "RandomInteger",
			"random_password": "RandomPassword",
			"random_pet":      "RandomPet",
			"random_shuffle":  "RandomShuffle",
			"random_string":   "RandomString",
			"random_uuid":     "RandomUuid",
		},
		dataSources: map[string]string{},
	})
}
