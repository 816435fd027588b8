package bolt

import (
	"bytes"
	"testing"
)

func TestSplitDataKey(t *testing.T) {
	for _, c := range []struct{ bucket, key string }{{"b", "k"}, {"", "k"}, {"key", "\x00\xff"}, {"a\x00b", "c"}} {
		k := dataKey(dataPrefix([]byte(c.bucket)), []byte(c.key))
		bucket, key, ok := splitDataKey(k)
		if !ok || string(bucket) != c.bucket || string(key) != c.key {
			t.Errorf("splitDataKey(%x) = %q, %q, %v; want %q, %q", k, bucket, key, ok, c.bucket, c.key)
		}
	}
	whole := dataKey(dataPrefix([]byte("bucket")), []byte("k"))
	for _, bad := range [][]byte{
		nil,
		{tagData, 0, 0},
		whole[:len(whole)-1],                    // no key
		append([]byte{tagBucket}, whole[1:]...), // not a data key
		dataKey(dataPrefix([]byte("bucket")), nil)[:8], // name cut
	} {
		if b, k, ok := splitDataKey(bad); ok {
			t.Errorf("splitDataKey(%x) = %q, %q, true; want not ok", bad, b, k)
		}
	}
	if got := markerName(markerKey([]byte("name"))); !bytes.Equal(got, []byte("name")) {
		t.Errorf("markerName(markerKey(name)) = %q", got)
	}
}

// TestKeyOrder: the layout's order (keys.go) that keeps an LSM's compactions
// off old data. Every bucket's keys sort below the format key, every bucket
// marker and the spill marker; the markers sort between the format key and
// the spill marker.
func TestKeyOrder(t *testing.T) {
	names := [][]byte{[]byte("key"), []byte("meta"), []byte("a"), {0}, {0xff, 0xff}, bytes.Repeat([]byte{0xff}, 300)}
	keys := [][]byte{{0}, []byte("k"), {0xff, 0xff, 0xff}, bytes.Repeat([]byte{0xff}, 600)}
	var data, markers [][]byte
	for _, n := range names {
		markers = append(markers, markerKey(n))
		for _, k := range keys {
			data = append(data, dataKey(dataPrefix(n), k))
		}
	}
	above := func(a, b []byte) bool { return bytes.Compare(a, b) > 0 }
	for _, d := range data {
		if !above(formatKey, d) || !above(spillKey, d) {
			t.Errorf("data key %x does not sort below the format key and the spill marker", d)
		}
		for _, m := range markers {
			if !above(m, d) {
				t.Errorf("marker %x sorts below data key %x", m, d)
			}
		}
	}
	for _, m := range markers {
		if !above(m, formatKey) || !above(spillKey, m) || bytes.Compare(m, markerLower) < 0 || bytes.Compare(m, markerUpper) >= 0 {
			t.Errorf("marker %x is not between the format key and the spill marker, inside [markerLower, markerUpper)", m)
		}
	}
}
