package bolt

import (
	"os"
	"time"
)

// FreelistType is accepted for compatibility; an LSM engine has no freelist.
type FreelistType string

const (
	FreelistArrayType = FreelistType("array")
	FreelistMapType   = FreelistType("hashmap")
)

// Options mirrors bbolt's open options. Fields that describe bbolt's page file
// (mmap, freelist, page size) are accepted and ignored; those that carry a
// contract the engine can keep are honoured:
//
//   - NoSync: commits are not synced (etcd's --unsafe-no-fsync). Otherwise
//     every commit is durable when Commit returns.
//   - ReadOnly: no write transactions, no files created or changed.
//   - Timeout: how long Open waits for a database held by someone else;
//     zero refuses at once (bbolt would wait forever).
//   - OpenFile: called once to open the path, as bbolt does.
//   - Logger: receives the layer's messages, including the start-up line
//     that names the storage variant.
type Options struct {
	Timeout         time.Duration
	NoGrowSync      bool
	NoFreelistSync  bool
	PreLoadFreelist bool
	FreelistType    FreelistType
	ReadOnly        bool
	MmapFlags       int
	InitialMmapSize int
	PageSize        int
	NoSync          bool
	OpenFile        func(string, int, os.FileMode) (*os.File, error)
	Mlock           bool
	Logger          Logger
}

// DefaultOptions are used when Open is given nil.
var DefaultOptions = &Options{Timeout: 0, FreelistType: FreelistArrayType}

// Logger is bbolt's logging interface; etcd hands in a zap adapter.
type Logger interface {
	Debug(v ...any)
	Debugf(format string, v ...any)
	Error(v ...any)
	Errorf(format string, v ...any)
	Info(v ...any)
	Infof(format string, v ...any)
	Warning(v ...any)
	Warningf(format string, v ...any)
	Fatal(v ...any)
	Fatalf(format string, v ...any)
	Panic(v ...any)
	Panicf(format string, v ...any)
}

const (
	// MaxKeySize is the maximum length of a key, in bytes (as bbolt).
	MaxKeySize = 32768
	// MaxValueSize is the maximum length of a value, in bytes (as bbolt).
	MaxValueSize = (1 << 31) - 2
	// DefaultFillPercent is bbolt's; Bucket.FillPercent is accepted and ignored.
	DefaultFillPercent = 0.5
)
