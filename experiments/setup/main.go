// Command setup describes the machine and software a measurement runs on,
// as every harness's report does (measure.DescribeSetup), for the scripts
// that drive Go's own benchmarks: a Markdown list, the caller's lines
// (arguments) after it.
//
//	setup [-bin DIR -variants "bbolt tuned"] [LINE...]
package main

import (
	"flag"
	"fmt"
	"strings"

	"etcd-lsm/experiments/measure"
)

func main() {
	bin := flag.String("bin", "", "directory holding bin/<variant>/ (with -variants: the builds' etcd and Go versions)")
	variants := flag.String("variants", "", "builds to describe, space-separated")
	flag.Parse()
	var b strings.Builder
	if *bin != "" && *variants != "" {
		b.WriteString(measure.DescribeSetup(*bin, strings.Fields(*variants)).Markdown())
	} else {
		s := measure.DescribeSetup("", nil)
		b.WriteString(s.Machine.Markdown())
		fmt.Fprintf(&b, "- storage: %s; Go %s\n", s.RocksDB, s.Go)
	}
	for _, l := range flag.Args() {
		fmt.Fprintf(&b, "- %s\n", l)
	}
	fmt.Print(b.String())
}
