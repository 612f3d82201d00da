// Package provider holds groundwork's own Pulumi bridge of terraform-provider-openstack: the
// tokens and property names of the @pulumi/openstack 3.15.2 npm SDK over the Terraform provider
// that the Go module proxy serves.
package provider

import (
	"sort"
	"strings"
	"unicode"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	shim "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/terraform-provider-openstack/terraform-provider-openstack/v3/openstack"
)

// Package is the Pulumi package name (the SDK's `pulumi.name`).
const Package = "openstack"

// configEnv lists, per provider setting, the environment variables read when the program and the
// stack config leave it unset: the same ones terraform-provider-openstack reads.
var configEnv = map[string][]string{
	"auth_url":                      {"OS_AUTH_URL"},
	"region":                        {"OS_REGION_NAME"},
	"user_name":                     {"OS_USERNAME"},
	"user_id":                       {"OS_USER_ID"},
	"tenant_id":                     {"OS_TENANT_ID", "OS_PROJECT_ID"},
	"tenant_name":                   {"OS_TENANT_NAME", "OS_PROJECT_NAME"},
	"password":                      {"OS_PASSWORD"},
	"token":                         {"OS_TOKEN", "OS_AUTH_TOKEN"},
	"user_domain_name":              {"OS_USER_DOMAIN_NAME"},
	"user_domain_id":                {"OS_USER_DOMAIN_ID"},
	"project_domain_name":           {"OS_PROJECT_DOMAIN_NAME"},
	"project_domain_id":             {"OS_PROJECT_DOMAIN_ID"},
	"domain_id":                     {"OS_DOMAIN_ID"},
	"domain_name":                   {"OS_DOMAIN_NAME"},
	"default_domain":                {"OS_DEFAULT_DOMAIN"},
	"system_scope":                  {"OS_SYSTEM_SCOPE"},
	"insecure":                      {"OS_INSECURE"},
	"endpoint_type":                 {"OS_ENDPOINT_TYPE"},
	"cacert_file":                   {"OS_CACERT"},
	"cert":                          {"OS_CERT"},
	"key":                           {"OS_KEY"},
	"swauth":                        {"OS_SWAUTH"},
	"cloud":                         {"OS_CLOUD"},
	"application_credential_id":     {"OS_APPLICATION_CREDENTIAL_ID"},
	"application_credential_name":   {"OS_APPLICATION_CREDENTIAL_NAME"},
	"application_credential_secret": {"OS_APPLICATION_CREDENTIAL_SECRET"},
	"delayed_auth":                  {"OS_DELAYED_AUTH"},
	"allow_reauth":                  {"OS_ALLOW_REAUTH"},
}

// Provider returns the bridge's description of the provider at the given plugin version.
func Provider(version string) tfbridge.ProviderInfo {
	p := shimv2.NewProvider(openstack.Provider())
	prov := tfbridge.ProviderInfo{
		P:           p,
		Name:        Package,
		Version:     version,
		DisplayName: "OpenStack",
		Description: "A Pulumi package for creating and managing OpenStack cloud resources.",
		Keywords:    []string{"pulumi", "openstack"},
		License:     "Apache-2.0",
		Homepage:    "https://pulumi.io",
		Repository:  "https://github.com/pulumi/pulumi-openstack",
		GitHubOrg:   "terraform-provider-openstack",
		Config:      map[string]*tfbridge.SchemaInfo{},
		Resources:   map[string]*tfbridge.ResourceInfo{},
		DataSources: map[string]*tfbridge.DataSourceInfo{},
	}
	p.Schema().Range(func(key string, _ shim.Schema) bool {
		if env, ok := configEnv[key]; ok {
			prov.Config[key] = &tfbridge.SchemaInfo{Default: &tfbridge.DefaultInfo{EnvVars: env}}
		}
		return true
	})

	used := map[string]bool{}
	for _, tf := range sortedKeys(p.ResourcesMap()) {
		mod, name := split(resourceTokens[tf], tf, "")
		tok := member(mod, name)
		if used[tok] { // a derived name already taken
			name += "Resource"
			tok = member(mod, name)
		}
		used[tok] = true
		prov.Resources[tf] = &tfbridge.ResourceInfo{Tok: tokens.Type(tok), Fields: fieldOverrides[tf]}
	}
	for _, tf := range sortedKeys(p.DataSourcesMap()) {
		mod, name := split(dataSourceTokens[tf], tf, "get")
		tok := member(mod, name)
		if used[tok] { // e.g. openstack_loadbalancer_flavor_v2, an alias of openstack_lb_flavor_v2
			name += "DataSource"
			tok = member(mod, name)
		}
		used[tok] = true
		prov.DataSources[tf] = &tfbridge.DataSourceInfo{Tok: tokens.ModuleMember(tok)}
	}
	// Like pulumi-openstack: an unset `name` becomes "<resource name>-<random suffix>".
	prov.SetAutonaming(255, "-")
	return prov
}

// fieldOverrides pins property names where the bridge's automatic name differs from the SDK's
// (check-names.sh lists the differences; the others are Terraform provider changes since the
// version the 3.15.2 SDK was generated from).
var fieldOverrides = map[string]map[string]*tfbridge.SchemaInfo{
	"openstack_orchestration_stack_v1": {"outputs": {Name: "StackOutputs"}},
	// MaxItems=1 since terraform-provider-openstack 2.x; the SDK still sends a one-element array.
	"openstack_compute_servergroup_v2": {"policies": {MaxItemsOne: tfbridge.False()}},
}

// split turns a "module:Name" row into its parts; without a row it derives them from the
// Terraform type: openstack_networking_bgp_speaker_v2 -> networking, BgpSpeakerV2.
func split(row, tf, prefix string) (string, string) {
	if mod, name, ok := strings.Cut(row, ":"); ok {
		return mod, name
	}
	parts := strings.Split(strings.TrimPrefix(tf, Package+"_"), "_")
	mod := parts[0]
	if m, ok := moduleOf[mod]; ok {
		mod = m
	}
	rest := parts[1:]
	if len(rest) <= 1 { // openstack_bgpvpn_v2: the module is the only noun
		rest = parts
	}
	var b strings.Builder
	for _, s := range rest {
		b.WriteString(strings.ToUpper(s[:1]) + s[1:])
	}
	if prefix != "" {
		return mod, prefix + b.String()
	}
	return mod, b.String()
}

// member builds openstack:<module>/<name, first letter lower-cased>:<name>.
func member(mod, name string) string {
	file := string(unicode.ToLower(rune(name[0]))) + name[1:]
	return Package + ":" + mod + "/" + file + ":" + name
}

func sortedKeys(m shim.ResourceMap) []string {
	var keys []string
	m.Range(func(key string, _ shim.Resource) bool {
		keys = append(keys, key)
		return true
	})
	sort.Strings(keys)
	return keys
}
