// Same as ../../openstack-bridge/provider/names.go (a separate Go module).
package provider

import (
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	shim "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim"
)

// Field is one property as the plugin names it, for comparing with the SDK's names.
type Field struct {
	TF     string            `json:"tf"`
	Input  bool              `json:"input"`
	List   bool              `json:"list"`             // an array in Pulumi (not a MaxItems=1 list flattened to one value)
	Fields map[string]*Field `json:"fields,omitempty"` // properties of a nested block
}

// Names maps every token to its top-level properties (Pulumi name -> Field): what
// `pulumi-resource-<pkg> -dump-names` prints.
func Names(prov tfbridge.ProviderInfo) map[string]map[string]*Field {
	out := map[string]map[string]*Field{}
	for tf, info := range prov.Resources {
		out[string(info.Tok)] = fields(prov.P.ResourcesMap().Get(tf).Schema(), info.Fields)
	}
	for tf, info := range prov.DataSources {
		out[string(info.Tok)] = fields(prov.P.DataSourcesMap().Get(tf).Schema(), info.Fields)
	}
	out["pulumi:providers:"+prov.Name] = fields(prov.P.Schema(), prov.Config)
	return out
}

func fields(sm shim.SchemaMap, infos map[string]*tfbridge.SchemaInfo) map[string]*Field {
	out := map[string]*Field{}
	sm.Range(func(key string, s shim.Schema) bool {
		f := &Field{TF: key, Input: s.Optional() || s.Required(), List: isList(s, infos[key])}
		if res, ok := s.Elem().(shim.Resource); ok {
			var sub map[string]*tfbridge.SchemaInfo
			if info := infos[key]; info != nil && info.Elem != nil {
				sub = info.Elem.Fields
			}
			f.Fields = fields(res.Schema(), sub)
		}
		out[tfbridge.TerraformToPulumiNameV2(key, sm, infos)] = f
		return true
	})
	return out
}

// isList tells whether the bridge presents a Terraform list or set as an array: it flattens one
// with MaxItems=1 to a single value unless the field's MaxItemsOne says otherwise.
func isList(s shim.Schema, info *tfbridge.SchemaInfo) bool {
	if s.Type() != shim.TypeList && s.Type() != shim.TypeSet {
		return false
	}
	if info != nil && info.MaxItemsOne != nil {
		return !*info.MaxItemsOne
	}
	return s.MaxItems() != 1
}
