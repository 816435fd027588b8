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
