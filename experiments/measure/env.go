package measure

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// EnvOr is the environment variable name, or def when it is unset or
// empty: how the harnesses take make's variables as their flags' defaults.
func EnvOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// EnvInt is EnvOr for a whole number. A value that is not one ends the
// program with a one-line error naming the variable, as a bad flag does,
// rather than running with a default the user did not ask for.
func EnvInt(name string, def int) int {
	return envValue(name, def, ParseEnvInt)
}

// EnvDuration is EnvOr for a duration ("90s", "3m"), strict as EnvInt.
func EnvDuration(name string, def time.Duration) time.Duration {
	return envValue(name, def, ParseEnvDuration)
}

func envValue[T any](name string, def T, parse func(name, v string, def T) (T, error)) T {
	x, err := parse(name, os.Getenv(name), def)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	return x
}

// ParseEnvInt is v, the value of the variable name, as a whole number; def
// when v is empty; an error naming the variable and an example otherwise.
func ParseEnvInt(name, v string, def int) (int, error) {
	return parseEnv(name, v, def, strconv.Atoi, "a whole number")
}

// ParseEnvDuration is ParseEnvInt for a duration.
func ParseEnvDuration(name, v string, def time.Duration) (time.Duration, error) {
	return parseEnv(name, v, def, time.ParseDuration, "a duration")
}

// parseEnv is v parsed by parse, def when v is empty; what names the kind
// of value in the error.
func parseEnv[T any](name, v string, def T, parse func(string) (T, error), what string) (T, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return def, nil
	}
	x, err := parse(v)
	if err != nil {
		var zero T
		return zero, fmt.Errorf("%s=%q: want %s, e.g. %s=%v", name, v, what, name, def)
	}
	return x, nil
}
