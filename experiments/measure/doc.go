// Package measure is the measurement toolkit of the experiment harnesses
// (reproduce, scale, faults, migrate): order statistics of samples, the
// description of the machine a run was made on, readers of /proc for the
// CPU time, memory and I/O of processes and of the machine (through
// github.com/prometheus/procfs), a member's /metrics (through
// github.com/prometheus/common/expfmt), the disk a directory takes, and
// writers of CSV files and Markdown tables that never drop an error.
//
// It knows nothing of etcd or of a cluster: the harnesses keep their
// experiments, this package keeps how things are measured and written.
package measure
