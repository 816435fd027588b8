//go:build tools

// Package robustness pins the packages of etcd's robustness test binary
// (its main_test.go imports these; a test-only package cannot be imported).
package robustness

import (
	_ "go.etcd.io/etcd/tests/v3/framework"
	_ "go.etcd.io/etcd/tests/v3/framework/e2e"
	_ "go.etcd.io/etcd/tests/v3/robustness/client"
	_ "go.etcd.io/etcd/tests/v3/robustness/failpoint"
	_ "go.etcd.io/etcd/tests/v3/robustness/identity"
	_ "go.etcd.io/etcd/tests/v3/robustness/model"
	_ "go.etcd.io/etcd/tests/v3/robustness/report"
	_ "go.etcd.io/etcd/tests/v3/robustness/scenarios"
	_ "go.etcd.io/etcd/tests/v3/robustness/traffic"
	_ "go.etcd.io/etcd/tests/v3/robustness/validate"
)
