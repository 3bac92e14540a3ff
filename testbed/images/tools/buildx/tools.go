//go:build tools

// Package tools pins docker buildx, installed as a docker CLI plugin by the test bed.
package tools

import (
	_ "github.com/docker/buildx/cmd/buildx"
)
