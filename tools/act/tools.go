//go:build tools

// Package tools pins nektos/act, the local GitHub Actions runner used to run this repository's
// workflows on the host (scripts/act-run.sh); it is built from source because no release binary
// can be downloaded here.
package tools

import (
	_ "github.com/nektos/act"
)
