//go:build tools

// Package tools pins actionlint, the workflow linter run by scripts/lint-workflows.sh.
package tools

import (
	_ "github.com/rhysd/actionlint/cmd/actionlint"
)
