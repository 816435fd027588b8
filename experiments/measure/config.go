package measure

import (
	"fmt"
	"regexp"
	"strings"
)

// A Config is what one row of a comparison runs: a build, and the engine
// settings its members get from the environment. In a list (make's STAGES,
// COMPARE, CONFIGS) it is either a build's name ("tuned") or
// "label=build:ENV=value[:ENV=value]"
// ("tuned-lz4=tuned:ETCDLSM_ROCKSDB_COMPRESSION=lz4"), which is how an
// engine's options are ablated: same binary, one setting changed.
type Config struct {
	Label   string   // the row's name in the samples and the report
	Variant string   // the build: a directory under bin/
	Env     []string // NAME=value for every member
}

// Engine is the storage variant the build runs. A build directory may be
// named variant@tag (bin/tuned@before: a copy of bin/tuned built from
// another commit), so that two builds of one variant run side by side.
func (c Config) Engine() string {
	e, _, _ := strings.Cut(c.Variant, "@")
	return e
}

var (
	labelRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)
	buildRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*(@[A-Za-z0-9._+-]+)?$`)
	envRE   = regexp.MustCompile(`^ETCDLSM_[A-Z0-9_]+=[^:]*$`)
)

// ParseConfig reads one entry of a list.
func ParseConfig(s string) (Config, error) {
	label, rest, named := strings.Cut(s, "=")
	if !named {
		if !buildRE.MatchString(s) {
			return Config{}, fmt.Errorf("variant %q: want a build's name or label=build:ENV=value", s)
		}
		return Config{Label: s, Variant: s}, nil
	}
	parts := strings.Split(rest, ":")
	c := Config{Label: label, Variant: parts[0]}
	if !buildRE.MatchString(label) || !buildRE.MatchString(c.Variant) {
		return Config{}, fmt.Errorf("variant %q: want label=build:ENV=value with a label and a build made of letters, digits and ._+-", s)
	}
	if c.Label == "bbolt" && c.Variant != "bbolt" {
		return Config{}, fmt.Errorf("variant %q: the label bbolt is the baseline every figure compares with; name this row otherwise", s)
	}
	for _, kv := range parts[1:] {
		if !envRE.MatchString(kv) {
			return Config{}, fmt.Errorf("variant %q: setting %q is not ETCDLSM_NAME=value", s, kv)
		}
		c.Env = append(c.Env, kv)
	}
	if c.Engine() == "bbolt" && len(c.Env) > 0 {
		return Config{}, fmt.Errorf("variant %q: stock bbolt has no engine settings", s)
	}
	return c, nil
}

// ParseConfigs reads a list into its labels, adding each config to byLabel;
// one label cannot name two different configs.
func ParseConfigs(list []string, byLabel map[string]Config) ([]string, error) {
	var labels []string
	for _, s := range list {
		c, err := ParseConfig(s)
		if err != nil {
			return nil, err
		}
		if old, ok := byLabel[c.Label]; ok && !sameConfig(old, c) {
			return nil, fmt.Errorf("label %s names two configurations: %s and %s", c.Label, old, c)
		}
		byLabel[c.Label] = c
		labels = append(labels, c.Label)
	}
	return labels, nil
}

func sameConfig(a, b Config) bool {
	return a.String() == b.String()
}

func (c Config) String() string {
	if c.Label == c.Variant && len(c.Env) == 0 {
		return c.Label
	}
	return c.Label + "=" + strings.Join(append([]string{c.Variant}, c.Env...), ":")
}
