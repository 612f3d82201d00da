// The only way to import terraform-provider-tls's internal/provider: a module whose path lies under
// the provider's own (Go's internal rule looks at import paths), wired in by a `replace`.
module github.com/hashicorp/terraform-provider-tls/shim

go 1.25

require github.com/hashicorp/terraform-provider-tls v1.2.1-0.20230117062332-afdd54107aba
