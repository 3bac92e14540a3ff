//go:build tools

// Package tools pins the BuildKit daemon and client that the test bed builds from source,
// because the moby/buildkit image cannot be pulled here.
package tools

import (
	_ "github.com/moby/buildkit/cmd/buildctl"
	_ "github.com/moby/buildkit/cmd/buildkitd"
)
