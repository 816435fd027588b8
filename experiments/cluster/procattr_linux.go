package cluster

import "syscall"

// sysProcAttr makes the kernel kill etcd if the test process dies without
// cleaning up (a panic, a `go test -timeout` abort, SIGKILL).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
