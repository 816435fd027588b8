package measure

import (
	"strings"

	"github.com/prometheus/procfs/blockdevice"
)

// DiskIO is what the machine's disks have done since boot (/proc/diskstats,
// summed over whole disks): requests completed and the milliseconds the
// block layer counted for them, from issue to completion. A WAL fsync's own
// duration also holds the wait for a core once the disk has answered; on a
// saturated machine the two differ, and only these say whether the disk
// itself was slower.
type DiskIO struct {
	Writes, WriteMs     uint64 // write requests, and their time
	Flushes, FlushMs    uint64 // cache flushes (what an fsync ends with), and their time
	Discards, DiscardMs uint64 // discards (TRIM of freed blocks), and their time
}

// ReadDiskIO reads /proc/diskstats. Partitions (a name that extends
// another device's: vda1 of vda), device-mapper, loop and RAM devices are
// left out so that no request is counted twice.
func ReadDiskIO() (DiskIO, error) {
	fs, err := blockdevice.NewFS(procRoot, "/sys")
	if err != nil {
		return DiskIO{}, err
	}
	all, err := fs.ProcDiskstats()
	if err != nil {
		return DiskIO{}, err
	}
	var io DiskIO
	for _, d := range all {
		if !wholeDisk(d.DeviceName, all) {
			continue
		}
		io.Writes += d.WriteIOs
		io.WriteMs += d.WriteTicks
		io.Flushes += d.FlushRequestsCompleted
		io.FlushMs += d.TimeSpentFlushing
		io.Discards += d.DiscardIOs
		io.DiscardMs += d.DiscardTicks
	}
	return io, nil
}

func wholeDisk(name string, all []blockdevice.Diskstats) bool {
	for _, p := range []string{"loop", "ram", "zram", "dm-", "md", "sr"} {
		if strings.HasPrefix(name, p) {
			return false
		}
	}
	for _, d := range all {
		if d.DeviceName != name && strings.HasPrefix(name, d.DeviceName) {
			return false
		}
	}
	return true
}
