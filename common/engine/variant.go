package engine

import (
	"fmt"
	"os"
	"sort"
	"sync"
)

// Variant is one way of implementing the engine: a storage engine plus the
// choices that make this variant differ from its neighbours.
type Variant struct {
	// Name identifies the variant, e.g. "naive". It is what users pass as
	// VARIANT= and what the server logs.
	Name string

	// Family names the on-disk format. Variants of one family open each
	// other's directories ("rocksdb"); different families do not.
	Family string

	// Open opens, creating when absent, the engine stored in dir.
	Open func(dir string, opts Options) (Engine, error)

	// Describe, when set, returns the engine's effective settings for the
	// start-up log line.
	Describe func() string

	// Validate, when set, checks the variant's settings before anything is
	// created on disk, so a misconfigured server stops with nothing changed.
	Validate func() error
}

// VariantEnv is the environment variable that selects a variant at run time
// when a binary links more than one.
const VariantEnv = "ETCDLSM_VARIANT"

// DefaultVariant is the variant used when VariantEnv is unset. Builds set it
// with -ldflags "-X etcd-lsm/common/engine.DefaultVariant=NAME".
var DefaultVariant = ""

var (
	registryMu sync.Mutex
	registry   = map[string]Variant{}
)

// Register makes a variant selectable. It panics on a duplicate name, which
// is a programming error.
func Register(v Variant) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[v.Name]; dup {
		panic("engine: variant registered twice: " + v.Name)
	}
	registry[v.Name] = v
}

// Lookup returns the registered variant with the given name.
func Lookup(name string) (Variant, error) {
	registryMu.Lock()
	defer registryMu.Unlock()
	v, ok := registry[name]
	if !ok {
		return Variant{}, fmt.Errorf("unknown storage variant %q (known: %v)", name, namesLocked())
	}
	return v, nil
}

// Names lists the registered variants in order.
func Names() []string {
	registryMu.Lock()
	defer registryMu.Unlock()
	return namesLocked()
}

func namesLocked() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Selected returns the variant this process uses: VariantEnv if set, else
// DefaultVariant, else the only registered variant.
func Selected() (Variant, error) {
	if name := os.Getenv(VariantEnv); name != "" {
		return Lookup(name)
	}
	if DefaultVariant != "" {
		return Lookup(DefaultVariant)
	}
	names := Names()
	if len(names) == 1 {
		return Lookup(names[0])
	}
	return Variant{}, fmt.Errorf("no storage variant selected: set %s to one of %v", VariantEnv, names)
}

// WithSettings fills v's Open, Validate and Describe for a variant whose
// settings come from the environment: load reads them (an invalid value is
// its error, so the server stops before anything is created), open opens
// the engine with them, and their String is the start-up log line.
func WithSettings[S fmt.Stringer](v Variant, load func() (S, error), open func(dir string, o Options, s S) (Engine, error)) Variant {
	v.Open = func(dir string, o Options) (Engine, error) {
		s, err := load()
		if err != nil {
			return nil, err
		}
		return open(dir, o, s)
	}
	v.Validate = func() error {
		_, err := load()
		return err
	}
	v.Describe = func() string {
		s, err := load()
		if err != nil {
			return err.Error()
		}
		return s.String()
	}
	return v
}
