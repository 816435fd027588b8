//go:build tools

// Package benchtool pins etcd's benchmark tool.
package benchtool

import _ "go.etcd.io/etcd/v3/tools/benchmark"
