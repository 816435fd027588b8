// Command reproduce runs the evaluation of the 2017 thesis ("RocksDB as the
// storage engine of etcd", chapter 5) against real etcd builds of this
// repository: every figure on local 3-member clusters on 127.0.0.1, driven
// by etcd's own benchmark tool, in interleaved rounds, with the thesis's
// numbers beside ours in report.md.
//
//	reproduce run     [flags]   run the experiments, write results/<run-id>/
//	reproduce report  DIR       rebuild the summaries and report.md of DIR
//	reproduce profile [flags]   CPU profile of the leader under the write load
//
// Run `reproduce <mode> -h` for the flags. The Makefile's targets
// `reproduce` and `profile` call it.
package main

import (
	"fmt"
	"os"
)

func main() {
	// The variant of an LSM build is fixed when it is built; an override in
	// the environment would silently run every build on one engine.
	os.Unsetenv("ETCDLSM_VARIANT")

	mode := "run"
	args := os.Args[1:]
	if len(args) > 0 && (args[0] == "run" || args[0] == "report" || args[0] == "profile") {
		mode, args = args[0], args[1:]
	}
	var err error
	switch mode {
	case "run":
		err = runMain(args)
	case "report":
		err = reportMain(args)
	case "profile":
		err = profileMain(args)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "reproduce:", err)
		os.Exit(1)
	}
}
