package rocks

import (
	"bytes"
	"encoding/binary"

	"github.com/linxGnu/grocksdb"
)

// ScanIterator is an Iterator that reads ahead when it walks forward: one
// cgo call copies a run of entries into a Go buffer, and Next serves them
// from there. A forward scan then pays one crossing per run instead of
// about four per key (Next, Valid, Key, Value). The run starts at a few
// entries and doubles while the scan goes on, so a seek that reads one key
// copies little. Any other move drops the run and repositions RocksDB's
// iterator on the current key.
type ScanIterator struct {
	Iterator
	buf   []byte
	ents  []scanEntry // the run read ahead; ents[pos] is current
	pos   int
	run   int  // entries to read ahead next time
	ahead bool // the RocksDB iterator is past the run, not on the current key
	val   []byte

	// remake, when set, makes a RocksDB iterator over the same snapshot and
	// bounds that does not fill the block cache. Once a scan has read
	// noFillAfter bytes it continues on such an iterator: a scan of the
	// whole database (etcd's defrag, a snapshot) would otherwise replace
	// the cache's working set with blocks read once, and fill it to its
	// capacity plus allocator overhead (measured: +83 MiB VmRSS for a 32
	// MiB cache while a 150 MiB database was read once, +11 MiB without).
	remake  func() (*grocksdb.Iterator, *grocksdb.ReadOptions)
	scanned int
}

// noFillAfter is how many bytes a scan reads through the block cache
// before it bypasses it (ScanIterator.remake).
const noFillAfter = 8 << 20

type scanEntry struct{ key, value []byte }

const (
	firstRun = 4
	maxRun   = 512
)

// NewScanIterator wraps it like NewIterator, with read-ahead.
func NewScanIterator(it *grocksdb.Iterator, ro *grocksdb.ReadOptions, lower, upper []byte) *ScanIterator {
	return &ScanIterator{Iterator: Iterator{it: it, ro: ro, lower: lower, upper: upper}, buf: make([]byte, 4<<10)}
}

// load reads a run starting at RocksDB's current position.
func (s *ScanIterator) load() bool {
	s.ents, s.pos, s.ahead = s.ents[:0], 0, true
	s.run = max(s.run, firstRun)
	for {
		_, used, need := fill(s.it, s.buf, s.run)
		if need > 0 {
			s.buf = make([]byte, max(need, 2*len(s.buf)))
			continue
		}
		s.scanned += used
		if s.remake != nil && s.scanned > noFillAfter {
			s.bypassCache()
		}
		for off := 0; off < used; {
			kl := int(binary.LittleEndian.Uint32(s.buf[off:]))
			vl := int(binary.LittleEndian.Uint32(s.buf[off+4:]))
			k := s.buf[off+8 : off+8+kl : off+8+kl]
			v := s.buf[off+8+kl : off+8+kl+vl : off+8+kl+vl]
			s.ents = append(s.ents, scanEntry{k, v})
			off += 8 + kl + vl
		}
		if used > len(s.buf)/2 && len(s.buf) < 1<<20 {
			// The next run gets room to grow: a full buffer, not the entry
			// count, is what cut this one short when values are large.
			s.buf = make([]byte, 2*len(s.buf))
		}
		s.run = min(2*s.run, maxRun)
		return s.settle()
	}
}

// bypassCache moves the scan to an iterator that does not fill the block
// cache, positioned where RocksDB's iterator is (past the run just read).
func (s *ScanIterator) bypassCache() {
	if !s.it.Valid() {
		return // nothing left to read
	}
	it, ro := s.remake()
	s.remake = nil
	it.Seek(append([]byte(nil), s.it.Key().Data()...))
	s.it.Close()
	if s.ro != nil {
		s.ro.Destroy()
	}
	s.it, s.ro = it, ro
}

// settle makes ents[pos] current if it is within bounds.
func (s *ScanIterator) settle() bool {
	s.valid = false
	if s.pos >= len(s.ents) {
		return false
	}
	k := s.ents[s.pos].key
	if (s.lower != nil && bytes.Compare(k, s.lower) < 0) || (s.upper != nil && bytes.Compare(k, s.upper) >= 0) {
		return false
	}
	s.key, s.val, s.valid = k, s.ents[s.pos].value, true
	return true
}

// plain switches back to unbuffered mode with RocksDB on the current key.
func (s *ScanIterator) plain() {
	if s.ahead {
		if s.valid {
			s.it.Seek(s.key)
		}
		s.ahead, s.ents = false, s.ents[:0]
	}
}

func (s *ScanIterator) First() bool {
	s.run = firstRun
	if s.lower != nil {
		s.it.Seek(s.lower)
	} else {
		s.it.SeekToFirst()
	}
	return s.load()
}

func (s *ScanIterator) SeekGE(key []byte) bool {
	s.run = firstRun
	if s.lower != nil && bytes.Compare(key, s.lower) < 0 {
		key = s.lower
	}
	s.it.Seek(key)
	return s.load()
}

func (s *ScanIterator) Next() bool {
	if !s.valid {
		return false
	}
	if !s.ahead {
		s.it.Next()
		return s.load()
	}
	s.pos++
	if s.pos < len(s.ents) {
		return s.settle()
	}
	return s.load()
}

func (s *ScanIterator) Last() bool {
	s.plain()
	s.ahead = false
	ok := s.Iterator.Last()
	s.val = nil
	return ok
}

func (s *ScanIterator) SeekLT(key []byte) bool {
	s.plain()
	s.ahead = false
	ok := s.Iterator.SeekLT(key)
	s.val = nil
	return ok
}

func (s *ScanIterator) Prev() bool {
	if !s.valid {
		return false
	}
	s.plain()
	ok := s.Iterator.Prev()
	s.val = nil
	return ok
}

func (s *ScanIterator) Value() []byte {
	if s.ahead {
		return s.val
	}
	return s.Iterator.Value()
}
