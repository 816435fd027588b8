package engine

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// ParseBytes reads a size written in bytes or with a KiB, MiB or GiB
// suffix ("64MiB", "131072").
func ParseBytes(s string) (uint64, error) {
	mult := uint64(1)
	for _, u := range []struct {
		suffix string
		mult   uint64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	return n * mult, err
}

// CheckEnvNames refuses an environment variable that starts with prefix
// and is not one of known: most likely a typo that would otherwise be
// ignored silently.
func CheckEnvNames(prefix string, known []string) error {
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, prefix) && !slices.Contains(known, name) {
			return fmt.Errorf("unknown setting %s (known: %s)", name, strings.Join(known, ", "))
		}
	}
	return nil
}
