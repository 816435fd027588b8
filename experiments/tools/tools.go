//go:build tools

// Package tools pins etcd's benchmark tool and benchstat.
package tools

import (
	_ "go.etcd.io/etcd/v3/tools/benchmark"
	_ "golang.org/x/perf/cmd/benchstat"
)
