// Command scrubprofile rewrites machine-specific paths in pprof profiles
// (file names of mappings and functions, string labels) as
// experiments/scrub-paths.sh does in text: each OLD=NEW pair is applied in
// order to every string. A profile is a protocol buffer, whose strings
// carry their lengths, so it cannot be rewritten as text.
//
//	scrubprofile -r OLD=NEW [-r OLD=NEW ...] file.pb.gz...
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/google/pprof/profile"
)

type pairs []string

func (p *pairs) String() string     { return strings.Join(*p, " ") }
func (p *pairs) Set(s string) error { *p = append(*p, s); return nil }

func main() {
	var subst pairs
	flag.Var(&subst, "r", "OLD=NEW replacement, applied in the order given")
	flag.Parse()
	var olds, news []string
	for _, s := range subst {
		o, n, ok := strings.Cut(s, "=")
		if !ok || o == "" {
			fmt.Fprintf(os.Stderr, "scrubprofile: bad replacement %q (want OLD=NEW)\n", s)
			os.Exit(2)
		}
		olds, news = append(olds, o), append(news, n)
	}
	rewrite := func(s string) string {
		for i := range olds {
			s = strings.ReplaceAll(s, olds[i], news[i])
		}
		return s
	}
	for _, path := range flag.Args() {
		if err := scrub(path, rewrite); err != nil {
			fmt.Fprintf(os.Stderr, "scrubprofile: %s: %v\n", path, err)
			os.Exit(1)
		}
	}
}

// scrub rewrites the profile at path in place (through a temporary file
// renamed over it), or leaves it alone when nothing changes.
func scrub(path string, rewrite func(string) string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	p, err := profile.Parse(f)
	f.Close()
	if err != nil {
		return err
	}
	changed := false
	set := func(s *string) {
		if n := rewrite(*s); n != *s {
			*s, changed = n, true
		}
	}
	for _, m := range p.Mapping {
		set(&m.File)
	}
	for _, fn := range p.Function {
		set(&fn.Filename)
		set(&fn.Name)
		set(&fn.SystemName)
	}
	for _, s := range p.Sample {
		for _, vs := range s.Label {
			for i := range vs {
				set(&vs[i])
			}
		}
	}
	for i := range p.Comments {
		set(&p.Comments[i])
	}
	if !changed {
		return nil
	}
	tmp := path + ".scrub"
	out, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := p.Write(out); err != nil {
		out.Close()
		os.Remove(tmp)
		return err
	}
	if err := out.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}
