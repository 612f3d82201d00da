// Package shim hands terraform-provider-random (3.6.0) to groundwork's bridge.
package shim

import (
	"github.com/hashicorp/terraform-plugin-framework/provider"
	random "github.com/terraform-providers/terraform-provider-random/internal/provider"
)

// NewProvider returns the plugin-framework provider behind the `random_*` Terraform types.
func NewProvider() provider.Provider { return random.New() }
