package measure

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestWriteCSV(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		rows [][]string
	}{
		{"plain", [][]string{{"a", "b"}, {"1", "2"}}},
		{"quoting", [][]string{{"x"}, {"has,comma"}, {"has \"quote\""}, {"two\nlines"}}},
		{"empty", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name+".csv")
			if err := WriteCSV(p, tc.rows); err != nil {
				t.Fatal(err)
			}
			got, err := ReadCSV(p)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.rows) || (len(got) > 0 && !reflect.DeepEqual(got, tc.rows)) {
				t.Errorf("read back %q, wrote %q", got, tc.rows)
			}
		})
	}
	if err := WriteCSV(filepath.Join(dir, "no", "such", "dir.csv"), [][]string{{"a"}}); err == nil {
		t.Error("writing into a missing directory: no error")
	}
}

func TestReadCSV(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadCSV(filepath.Join(dir, "missing.csv")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want fs.ErrNotExist", err)
	}
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("a,b\n1\n"), 0o644)
	if _, err := ReadCSV(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("ragged file: %v, want an error naming it", err)
	}
}

func TestReadRecords(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "r.csv")
	os.WriteFile(p, []byte("engine,rate\ntuned,1.5\nbbolt,2\n"), 0o644)
	recs, err := ReadRecords(p, "engine")
	if err != nil {
		t.Fatal(err)
	}
	want := []map[string]string{{"engine": "tuned", "rate": "1.5"}, {"engine": "bbolt", "rate": "2"}}
	if !reflect.DeepEqual(recs, want) {
		t.Errorf("ReadRecords = %q", recs)
	}
	if _, err := ReadRecords(p, "engine", "p99"); err == nil || !strings.Contains(err.Error(), `no column "p99"`) || !strings.Contains(err.Error(), p) {
		t.Errorf("a missing column: %v", err)
	}
	empty := filepath.Join(dir, "empty.csv")
	os.WriteFile(empty, nil, 0o644)
	if recs, err := ReadRecords(empty); err != nil || recs != nil {
		t.Errorf("empty file: %q %v", recs, err)
	}
	if _, err := ReadRecords(filepath.Join(dir, "missing.csv")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestStructRows(t *testing.T) {
	type row struct {
		Engine      string
		WriteP99Ms  float64
		DBSizeInUse int64
		OK          bool
	}
	got := StructRows([]row{{"tuned", 1.0 / 3, 42, true}, {"bbolt", 2e9, -1, false}})
	want := [][]string{
		{"engine", "write_p99_ms", "db_size_in_use", "ok"},
		{"tuned", "0.33333333", "42", "true"},
		{"bbolt", "2e+09", "-1", "false"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("StructRows = %q, want %q", got, want)
	}
	if got := StructRows[row](nil); len(got) != 1 {
		t.Errorf("StructRows(nil) = %q, want the header only", got)
	}
}

func TestSnakeCase(t *testing.T) {
	for in, want := range map[string]string{
		"Engine":              "engine",
		"WriteP99Ms":          "write_p99_ms",
		"DBSizeInUse":         "db_size_in_use",
		"RSS":                 "rss",
		"GoHeapInuse":         "go_heap_inuse",
		"LSMPendingComp":      "lsm_pending_comp",
		"DiskReadMBSteady":    "disk_read_mb_steady",
		"TputInCompaction":    "tput_in_compaction",
		"FinalDefragOOMKills": "final_defrag_oom_kills",
		"":                    "",
	} {
		if got := SnakeCase(in); got != want {
			t.Errorf("SnakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTableMarkdown(t *testing.T) {
	for _, tc := range []struct {
		name string
		t    Table
		want string
	}{
		{"header only", Table{Header: []string{"a", "b"}}, "| a | b |\n|---|---|\n"},
		{"rows and alignment", Table{Header: []string{"at (s)", "step"}, Align: []string{"---:"}, Rows: [][]string{{"1.0", "start"}}},
			"| at (s) | step |\n|---:|---|\n| 1.0 | start |\n"},
		{"pipes escaped", Table{Header: []string{"x"}, Rows: [][]string{{"a|b"}}}, "| x |\n|---|\n| a\\|b |\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.t.Markdown(); got != tc.want {
				t.Errorf("Markdown() =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
	var tb Table
	tb.Header = []string{"k", "v"}
	tb.Add("a", "1")
	tb.Add("b", "2")
	if got := tb.Markdown(); strings.Count(got, "\n") != 4 || !strings.HasSuffix(got, "| b | 2 |\n") {
		t.Errorf("after Add: %q", got)
	}
}
