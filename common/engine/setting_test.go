package engine

import (
	"errors"
	"testing"
)

type fakeSettings string

func (f fakeSettings) String() string { return "settings " + string(f) }

// A variant with settings refuses to open or validate with a bad one and
// logs what it would run with.
func TestWithSettings(t *testing.T) {
	bad := errors.New("ETCDLSM_X=\"y\": want z")
	var loadErr error
	var opened fakeSettings
	v := WithSettings(Variant{Name: "x"},
		func() (fakeSettings, error) { return "a", loadErr },
		func(dir string, o Options, s fakeSettings) (Engine, error) { opened = s; return nil, nil })
	if _, err := v.Open("dir", Options{}); err != nil || opened != "a" {
		t.Fatalf("open: %v, settings %q", err, opened)
	}
	if v.Validate() != nil || v.Describe() != "settings a" {
		t.Fatalf("validate %v, describe %q", v.Validate(), v.Describe())
	}
	loadErr, opened = bad, ""
	if _, err := v.Open("dir", Options{}); err != bad || opened != "" {
		t.Fatalf("opened with a bad setting: %v, %q", err, opened)
	}
	if v.Validate() != bad || v.Describe() != bad.Error() {
		t.Fatalf("validate %v, describe %q", v.Validate(), v.Describe())
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]uint64{"64MiB": 64 << 20, "131072": 131072, "4KiB": 4096, "1GiB": 1 << 30, "10B": 10} {
		if got, err := ParseBytes(in); err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	if _, err := ParseBytes("lots"); err == nil {
		t.Error("ParseBytes accepted \"lots\"")
	}
}
