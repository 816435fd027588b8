package measure

import (
	"os"
	"strconv"
)

// EnvOr is the environment variable name, or def when it is unset or
// empty: how the harnesses take make's variables as their flags' defaults.
func EnvOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// EnvInt is EnvOr for an integer; a value that is not one gives def.
func EnvInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}
