// Package shim hands terraform-provider-tls (4.0.4 era) to groundwork's bridge.
package shim

import (
	"github.com/hashicorp/terraform-plugin-framework/provider"
	tls "github.com/hashicorp/terraform-provider-tls/internal/provider"
)

// NewProvider returns the plugin-framework provider behind the `tls_*` Terraform types.
func NewProvider() provider.Provider { return tls.New() }
