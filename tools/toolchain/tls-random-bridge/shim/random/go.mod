// The only way to import terraform-provider-random's internal/provider: a module whose path lies
// under the provider's own (note: github.com/terraform-providers/…, the path its go.mod declares).
module github.com/terraform-providers/terraform-provider-random/shim

go 1.25

require github.com/terraform-providers/terraform-provider-random v1.3.2-0.20231204135814-c6e90de46687
