package measure

import (
	"encoding/csv"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// WriteCSV writes rows to a new file at path (replacing one that is
// there). Every error is returned: creating, writing, flushing, closing.
func WriteCSV(path string, rows [][]string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	if err := w.WriteAll(rows); err != nil { // WriteAll flushes
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

// ReadCSV reads every record of the CSV file at path. A missing file is an
// error that wraps fs.ErrNotExist; a malformed one names the file.
func ReadCSV(path string) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rows, nil
}

// ReadRecords reads a CSV file whose first record names the columns and
// returns every later record as a map from column to value (ReadCSV
// refuses records of another length). The errors are ReadCSV's, and one
// naming the file and the column when a column in need is missing.
func ReadRecords(path string, need ...string) ([]map[string]string, error) {
	rows, err := ReadCSV(path)
	if err != nil {
		return nil, err
	}
	var head []string
	if len(rows) > 0 {
		head = rows[0]
	}
	for _, c := range need {
		if !slices.Contains(head, c) {
			return nil, fmt.Errorf("%s: no column %q", path, c)
		}
	}
	var recs []map[string]string
	for _, row := range rows[min(1, len(rows)):] {
		rec := make(map[string]string, len(head))
		for i, col := range head {
			rec[col] = row[i]
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

// StructRows turns a slice of structs into CSV rows: a header of the field
// names in snake case (WriteP99Ms becomes write_p99_ms), then one row per
// item, float64 fields in the shortest form of 8 significant digits
// (strconv 'g'), every other field as fmt.Sprint prints it. T must be a
// struct type; it panics otherwise.
func StructRows[T any](items []T) [][]string {
	rt := reflect.TypeFor[T]()
	head := make([]string, rt.NumField())
	for i := range head {
		head[i] = SnakeCase(rt.Field(i).Name)
	}
	rows := [][]string{head}
	for _, it := range items {
		v := reflect.ValueOf(it)
		row := make([]string, v.NumField())
		for i := range row {
			f := v.Field(i)
			if f.Kind() == reflect.Float64 {
				row[i] = strconv.FormatFloat(f.Float(), 'g', 8, 64)
			} else {
				row[i] = fmt.Sprint(f.Interface())
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// SnakeCase turns a Go identifier into snake case: an underscore before
// every upper-case letter that follows a lower-case letter or a digit, or
// that starts a word after an acronym (DBSizeInUse: db_size_in_use), and
// all letters in lower case.
func SnakeCase(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		up := unicode.IsUpper(r)
		if up && i > 0 && (!unicode.IsUpper(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]))) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// Table is a Markdown table under construction.
type Table struct {
	Header []string
	// Align is the separator cell of each column ("---", "---:"); a
	// missing one is "---".
	Align []string
	Rows  [][]string
}

// Add appends a row.
func (t *Table) Add(cells ...string) { t.Rows = append(t.Rows, cells) }

// Markdown renders the table: the header, the separator line and the rows,
// each line "| a | b |" ending in a newline; "|" inside a cell is escaped.
func (t Table) Markdown() string {
	var b strings.Builder
	line := func(cells []string) {
		b.WriteString("|")
		for _, c := range cells {
			b.WriteString(" " + strings.ReplaceAll(c, "|", `\|`) + " |")
		}
		b.WriteString("\n")
	}
	line(t.Header)
	b.WriteString("|")
	for i := range t.Header {
		a := "---"
		if i < len(t.Align) && t.Align[i] != "" {
			a = t.Align[i]
		}
		b.WriteString(a + "|")
	}
	b.WriteString("\n")
	for _, r := range t.Rows {
		line(r)
	}
	return b.String()
}
