// Command doctables keeps the tables of the project's documents equal to
// the committed runs they come from, and every run a document names present.
//
// A generated table sits between two HTML comments, which Markdown does not
// render:
//
//	<!-- table scale-large run=scale-20261206T084014Z-8gb -->
//	| ... generated ... |
//	<!-- end table -->
//
// The first names a generator (tables.go) and its arguments. The lines in
// between are the generator's output, indented as the opening comment is.
//
// doctables -write rewrites every block from the results. Without -write
// (what make test runs) it changes nothing and fails when a block differs
// from what its generator makes from the committed results, or when a
// document names a run (a results directory's name, such as
// 20261201T053556Z-thesis or scale-20261206T084014Z-8gb) that is not under
// experiments/results.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// documents are the files doctables reads, relative to the repository root;
// a pattern may match several.
var documents = []string{"README.md", "THESIS.md", "docs/*.md", "experiments/*/README.md", "profiles/*.md"}

func main() {
	root := flag.String("root", "..", "the repository root")
	write := flag.Bool("write", false, "rewrite the generated tables instead of checking them")
	flag.Parse()
	if err := run(*root, *write); err != nil {
		fmt.Fprintln(os.Stderr, "doctables:", err)
		os.Exit(1)
	}
}

func run(root string, write bool) error {
	var files []string
	for _, pat := range documents {
		m, err := filepath.Glob(filepath.Join(root, pat))
		if err != nil {
			return err
		}
		files = append(files, m...)
	}
	slices.Sort(files)
	results := filepath.Join(root, "experiments", "results")
	var problems []string
	tables, stale := 0, 0
	for _, path := range files {
		old, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		for _, name := range missingRuns(old, results) {
			problems = append(problems, fmt.Sprintf("%s names run %s, which is not under experiments/results", rel, name))
		}
		blocks, err := parseBlocks(old)
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		tables += len(blocks)
		now, diffs, err := regenerate(old, blocks, results)
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		stale += len(diffs)
		if !write {
			for _, d := range diffs {
				problems = append(problems, fmt.Sprintf("%s:%d: %s", rel, d.line, d.what))
			}
		}
		if write && !bytes.Equal(now, old) {
			if err := os.WriteFile(path, now, 0o644); err != nil {
				return err
			}
			fmt.Printf("rewrote %d table(s) of %s\n", len(diffs), rel)
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%d problem(s):\n  %s\n(make docs-tables rewrites the tables from the results)", len(problems), strings.Join(problems, "\n  "))
	}
	if !write {
		fmt.Printf("doctables: %d generated table(s) in %d document(s) match their runs; every named run is present\n", tables, len(files))
	} else if stale == 0 {
		fmt.Printf("doctables: %d generated table(s) already match their runs\n", tables)
	}
	return nil
}

// runName matches the name of a results directory: a UTC time, with the
// harness's prefix and the run's mode around it.
var runName = regexp.MustCompile(`\b(?:[a-z]+(?:-[a-z]+)*-)?20\d{6}T\d{4,6}Z(?:-[a-z0-9]+)*\b`)

// missingRuns returns the run names in doc with no directory under results.
func missingRuns(doc []byte, results string) []string {
	var missing []string
	for _, m := range runName.FindAll(doc, -1) {
		name := string(m)
		if slices.Contains(missing, name) {
			continue
		}
		if st, err := os.Stat(filepath.Join(results, name)); err != nil || !st.IsDir() {
			missing = append(missing, name)
		}
	}
	return missing
}

// block is one generated table of a document.
type block struct {
	gen        string            // the generator's name
	args       map[string]string // its arguments
	indent     string            // of the opening comment, given to every line
	start, end int               // line indexes of the opening and closing comments
}

var (
	openTag  = regexp.MustCompile(`^(\s*)<!-- table ([a-z0-9-]+)((?:\s+[a-z0-9-]+=\S+)*)\s*-->\s*$`)
	closeTag = regexp.MustCompile(`^\s*<!-- end table -->\s*$`)
)

// parseBlocks finds the generated tables of doc.
func parseBlocks(doc []byte) ([]block, error) {
	lines := strings.Split(string(doc), "\n")
	var blocks []block
	for i := 0; i < len(lines); i++ {
		if closeTag.MatchString(lines[i]) {
			return nil, fmt.Errorf("line %d: an end of table without its start", i+1)
		}
		m := openTag.FindStringSubmatch(lines[i])
		if m == nil {
			if strings.Contains(lines[i], "<!-- table") {
				return nil, fmt.Errorf("line %d: a table comment doctables cannot read: %s", i+1, strings.TrimSpace(lines[i]))
			}
			continue
		}
		b := block{gen: m[2], indent: m[1], args: map[string]string{}, start: i}
		for _, kv := range strings.Fields(m[3]) {
			k, v, _ := strings.Cut(kv, "=")
			b.args[k] = v
		}
		for j := i + 1; j < len(lines); j++ {
			if openTag.MatchString(lines[j]) {
				return nil, fmt.Errorf("line %d: a table starts inside the table of line %d", j+1, i+1)
			}
			if closeTag.MatchString(lines[j]) {
				b.end = j
				break
			}
		}
		if b.end == 0 {
			return nil, fmt.Errorf("line %d: table %s has no end", i+1, b.gen)
		}
		blocks = append(blocks, b)
		i = b.end
	}
	return blocks, nil
}

// diff says where a block differs from its generator's output.
type diff struct {
	line int
	what string
}

// regenerate returns doc with every block's lines replaced by its
// generator's output, and the blocks that changed.
func regenerate(doc []byte, blocks []block, results string) ([]byte, []diff, error) {
	lines := strings.Split(string(doc), "\n")
	var out []string
	var diffs []diff
	next := 0
	for _, b := range blocks {
		gen, ok := generators[b.gen]
		if !ok {
			return nil, nil, fmt.Errorf("line %d: no table generator %q (there are: %s)", b.start+1, b.gen, strings.Join(generatorNames(), ", "))
		}
		text, err := gen(results, b.args)
		if err != nil {
			return nil, nil, fmt.Errorf("line %d: table %s: %w", b.start+1, b.gen, err)
		}
		want := strings.Split(strings.TrimRight(text, "\n"), "\n")
		for i := range want {
			if want[i] != "" {
				want[i] = b.indent + want[i]
			}
		}
		have := lines[b.start+1 : b.end]
		if !slices.Equal(have, want) {
			diffs = append(diffs, diff{b.start + 1, fmt.Sprintf("table %s differs from its run%s", b.gen, firstDifference(have, want))})
		}
		out = append(out, lines[next:b.start+1]...)
		out = append(out, want...)
		next = b.end
	}
	out = append(out, lines[next:]...)
	return []byte(strings.Join(out, "\n")), diffs, nil
}

// firstDifference describes the first line where have and want differ.
func firstDifference(have, want []string) string {
	for i := range max(len(have), len(want)) {
		h, w := "(none)", "(none)"
		if i < len(have) {
			h = strings.TrimSpace(have[i])
		}
		if i < len(want) {
			w = strings.TrimSpace(want[i])
		}
		if h != w {
			return fmt.Sprintf(": line %d of the table is\n      %s\n    where the run gives\n      %s", i+1, h, w)
		}
	}
	return ""
}
